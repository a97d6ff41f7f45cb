/** Payloads as the Python side emits them. */
import {
  IJobPayload,
  ILakeInfo,
  IModelPayload,
  IPlanPayload,
  ISchemaPayload
} from '../src/tokens';

export const schema: ISchemaPayload = {
  table: 'patients',
  lakes: ['st-mary', 'st-jude'],
  columns: [
    {
      name: 'radius',
      type: 'double',
      nullable: false,
      description: 'Mean radius of the nucleus',
      private: false,
      kind: 'numeric',
      presence: { 'st-mary': 'ok', 'st-jude': 'ok' }
    },
    {
      name: 'texture',
      type: 'double',
      nullable: true,
      description: 'Grey-scale spread',
      private: false,
      kind: 'numeric',
      presence: { 'st-mary': 'ok', 'st-jude': 'missing' }
    },
    {
      name: 'age',
      type: 'int',
      nullable: false,
      description: 'Age at diagnosis',
      private: false,
      kind: 'numeric',
      presence: { 'st-mary': 'ok', 'st-jude': 'differs: bigint' }
    },
    {
      name: 'patient_name',
      type: 'string',
      nullable: false,
      description: '<b>never</b> shown',
      private: true,
      kind: 'text',
      presence: { 'st-mary': 'ok', 'st-jude': 'ok' }
    },
    {
      name: 'malignant',
      type: 'boolean',
      nullable: false,
      description: 'Diagnosis',
      private: false,
      kind: 'label',
      presence: { 'st-mary': 'ok', 'st-jude': 'ok' }
    }
  ]
};

export const plan: IPlanPayload = {
  model: 'logistic_regression',
  table: 'patients',
  features: ['radius', 'texture', 'age'],
  label: 'malignant',
  rounds: 30,
  local_epochs: 1,
  learning_rate: 0.5,
  secure_aggregation: true,
  dp: { epsilon: 1.0, delta: 1e-5, clip_norm: 1.0 },
  hash: 'ab12cd34ef56ab12cd34ef56'
};

export const job: IJobPayload = {
  job_id: 'job-7f3a',
  plan,
  status: 'running',
  lakes: { 'st-mary': 'running', 'st-jude': 'waiting for approval' },
  rounds_done: 12,
  rounds_total: 30,
  history: [
    { round: 1, loss: 0.69, accuracy: 0.6, rows: 455 },
    { round: 2, loss: 0.52, accuracy: 0.8, rows: 455 },
    { round: 3, loss: 0.41, accuracy: 0.9, rows: 455 }
  ],
  error: null
};

export const model: IModelPayload = {
  model: 'logistic_regression',
  features: ['radius', 'texture', 'age'],
  label: 'malignant',
  coef: [0.8, -2.5, 0.1],
  intercept: 0.1,
  rounds: 30,
  lakes: ['st-mary', 'st-jude']
};

export const lakes: ILakeInfo[] = [
  {
    name: 'st-mary',
    url: 'http://127.0.0.1:8081',
    role: 'owner',
    status: 'online',
    error: null,
    pending_requests: 2,
    tables: [
      {
        name: 'patients',
        rows: 'about 190',
        columns: [
          { name: 'radius', type: 'double', private: false },
          { name: 'texture', type: 'double', private: false },
          { name: 'patient_name', type: 'string', private: true },
          { name: 'malignant', type: 'boolean', private: false },
          { name: 'notes', type: 'string', private: false }
        ]
      }
    ]
  },
  {
    name: 'st-jude',
    url: null,
    role: 'scientist',
    status: 'offline',
    error: 'Connection refused at http://127.0.0.1:8082',
    pending_requests: 0,
    tables: []
  }
];
