/** Payloads as the Python side emits them. */
import {
  IJobPayload,
  ILakeInfo,
  ILakeTable,
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

/** A table as it really is: categorical columns, a boolean, a date, a text label. */
export const admissions: ISchemaPayload = {
  table: 'admissions',
  lakes: ['st-mary', 'st-jude'],
  columns: [
    {
      name: 'age',
      type: 'double',
      nullable: true,
      description: 'Age at admission',
      private: false,
      kind: 'numeric',
      categories: null,
      presence: { 'st-mary': 'ok', 'st-jude': 'ok' }
    },
    {
      name: 'ward',
      type: 'string',
      nullable: true,
      description: 'Ward at admission',
      private: false,
      kind: 'categorical',
      categories: ['cardio', 'neuro', 'ortho', 'onco'],
      presence: { 'st-mary': 'ok', 'st-jude': 'differs: categories' }
    },
    {
      name: 'diagnosis',
      type: 'string',
      nullable: false,
      description: 'ICD chapter',
      private: false,
      kind: 'categorical',
      categories: Array.from({ length: 12 }, (_, i) => `D${i + 1}`),
      presence: { 'st-mary': 'ok', 'st-jude': 'ok' }
    },
    {
      name: 'smoker',
      type: 'boolean',
      nullable: true,
      description: '',
      private: false,
      kind: 'boolean',
      categories: null,
      presence: { 'st-mary': 'ok', 'st-jude': 'ok' }
    },
    {
      name: 'admitted',
      type: 'date',
      nullable: false,
      description: '',
      private: false,
      kind: 'date',
      presence: { 'st-mary': 'ok', 'st-jude': 'ok' }
    },
    {
      name: 'species',
      type: 'string',
      nullable: false,
      description: 'The label',
      private: false,
      kind: 'categorical',
      categories: ['Adelie', 'Chinstrap', 'Gentoo'],
      presence: { 'st-mary': 'ok', 'st-jude': 'ok' }
    }
  ]
};

export const plan: IPlanPayload = {
  model: 'logistic_regression',
  table: 'patients',
  features: ['radius', 'texture', 'age'],
  label: 'malignant',
  secure_aggregation: true,
  secure_threshold: null,
  dp: { epsilon: 1.0, delta: 1e-5, clip_norm: 1.0 },
  rounds: 30,
  local_epochs: 1,
  learning_rate: 0.5,
  batch_size: null,
  l2: 0.0,
  server_optimizer: 'sgd',
  server_learning_rate: null,
  hash: 'ab12cd34ef56ab12cd34ef56',
  task: 'classification',
  total_rounds: 30,
  metrics: ['loss', 'accuracy'],
  primary_metric: 'accuracy',
  settings: [
    ['rounds', 30],
    ['local_epochs', 1],
    ['learning_rate', 0.5],
    ['batch_size', null],
    ['l2', 0.0],
    ['server_optimizer', 'sgd'],
    ['server_learning_rate', null]
  ]
};

/** A plan payload saved before plans named their task, metrics and settings. */
export const legacyPlan: IPlanPayload = {
  model: 'logistic_regression',
  table: 'patients',
  features: ['radius', 'texture', 'age'],
  label: 'malignant',
  rounds: 30,
  local_epochs: 1,
  learning_rate: 0.5,
  secure_aggregation: true,
  dp: null,
  hash: 'ab12cd34ef56ab12cd34ef56'
};

export const regressionPlan: IPlanPayload = {
  model: 'linear_regression',
  table: 'patients',
  features: ['radius', 'age'],
  label: 'tumour_size',
  secure_aggregation: true,
  secure_threshold: null,
  dp: null,
  rounds: 30,
  local_epochs: 1,
  learning_rate: 0.1,
  batch_size: null,
  l2: 0.0,
  server_optimizer: 'sgd',
  server_learning_rate: null,
  alpha: 0.5,
  solver: 'auto',
  hash: 'bb094c41cc008e1c923473b4',
  task: 'regression',
  total_rounds: 1,
  metrics: ['loss', 'rmse', 'r2'],
  primary_metric: 'r2',
  settings: [
    ['rounds', 30],
    ['local_epochs', 1],
    ['learning_rate', 0.1],
    ['batch_size', null],
    ['l2', 0.0],
    ['server_optimizer', 'sgd'],
    ['server_learning_rate', null],
    ['alpha', 0.5],
    ['solver', 'auto']
  ]
};

export const mlpPlan: IPlanPayload = {
  ...plan,
  model: 'mlp_classifier',
  dp: null,
  hidden: [64, 32],
  activation: 'relu',
  classes: null,
  fedprox_mu: 0.01,
  seed: 0,
  total_rounds: 50,
  settings: [
    ['rounds', 50],
    ['local_epochs', 5],
    ['learning_rate', 0.1],
    ['batch_size', 64],
    ['l2', 0.0],
    ['server_optimizer', 'adam'],
    ['server_learning_rate', null],
    ['hidden', [64, 32]],
    ['activation', 'relu'],
    ['classes', null],
    ['fedprox_mu', 0.01],
    ['seed', 0]
  ]
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

export const regressionJob: IJobPayload = {
  job_id: 'job-51e0',
  plan: { ...regressionPlan, solver: 'rounds', total_rounds: 4 },
  status: 'done',
  lakes: { 'st-mary': 'done', 'st-jude': 'done' },
  rounds_done: 4,
  rounds_total: 4,
  history: [
    { round: 1, loss: 9.0, rmse: 3.0, r2: -0.2, rows: 400 },
    { round: 2, loss: 4.0, rmse: 2.0, r2: 0.35, rows: 400 },
    { round: 3, loss: 2.25, rmse: 1.5, r2: 0.62, rows: 400 },
    { round: 4, loss: 1.0, rmse: 1.0, r2: 0.81, rows: 400 }
  ],
  error: null
};

export const model: IModelPayload = {
  model: 'logistic_regression',
  task: 'classification',
  features: ['radius', 'texture', 'age'],
  label: 'malignant',
  rounds: 30,
  lakes: ['st-mary', 'st-jude'],
  plan_hash: 'ab12cd34ef56ab12cd34ef56',
  feature_means: [14.1, 19.3, 55.0],
  classes: [0, 1],
  coef: [0.8, -2.5, 0.1],
  intercept: 0.1,
  report: {
    title: 'Coefficients',
    header: ['feature', 'coefficient'],
    rows: [
      ['radius', 0.8],
      ['texture', -2.5],
      ['age', 0.1],
      ['(intercept)', 0.1]
    ],
    note: 'on the original (unstandardised) scale of each feature'
  }
};

export const linearModel: IModelPayload = {
  model: 'linear_regression',
  task: 'regression',
  features: ['radius', 'age'],
  label: 'tumour_size',
  rounds: 1,
  lakes: ['st-mary', 'st-jude'],
  plan_hash: 'bb094c41cc008e1c923473b4',
  feature_means: [14.1, 55.0],
  coef: [1.5, -0.02],
  intercept: 3.0,
  alpha: 0.5,
  report: {
    title: 'Coefficients',
    header: ['feature', 'coefficient'],
    rows: [
      ['radius', 1.5],
      ['age', -0.02],
      ['(intercept)', 3.0]
    ],
    note: 'on the original (unstandardised) scale of each feature'
  }
};

export const softmaxModel: IModelPayload = {
  model: 'softmax_regression',
  task: 'classification',
  features: ['radius', 'age'],
  label: 'stage',
  rounds: 10,
  lakes: ['st-mary'],
  plan_hash: '',
  feature_means: [14.1, 55.0],
  classes: [1, 2, 3],
  coef: [
    [0.5, -0.25],
    [0.0, 0.125],
    [-0.5, 0.125]
  ],
  intercept: [0.1, 0.0, -0.1],
  report: {
    title: 'Coefficients',
    header: ['feature', 'class 1', 'class 2', 'class 3'],
    rows: [
      ['radius', 0.5, 0.0, -0.5],
      ['age', -0.25, 0.125, 0.125],
      ['(intercept)', 0.1, 0.0, -0.1]
    ],
    note: 'on the original (unstandardised) scale of each feature'
  }
};

export const mlpModel: IModelPayload = {
  model: 'mlp_classifier',
  task: 'classification',
  features: ['radius', 'age'],
  label: 'malignant',
  rounds: 5,
  lakes: ['st-mary'],
  plan_hash: '',
  feature_means: [14.1, 55.0],
  classes: [0, 1],
  activation: 'relu',
  coefs: [
    [
      [0.1, 0.1, 0.1],
      [0.1, 0.1, 0.1]
    ],
    [[-0.2], [-0.2], [-0.2]]
  ],
  intercepts: [[0.0, 0.0, 0.0], [0.0]],
  report: {
    title: 'Layers',
    header: ['layer', 'shape', 'parameters'],
    rows: [
      ['layer 1', '2 → 3', 9],
      ['layer 2', '3 → 1', 4]
    ],
    note: 'relu hidden units; the first layer takes the original features'
  }
};

export const treesModel: IModelPayload = {
  model: 'gradient_boosted_trees',
  view: 'trees',
  task: 'classification',
  features: ['radius', 'age'],
  label: 'malignant',
  rounds: 8,
  lakes: ['st-mary', 'st-luke'],
  plan_hash: '',
  classes: [0, 1],
  baseline: 0.2,
  trees: [
    {
      feature: [0, -1, 1, -1, -1],
      threshold: [14.5, 0, 60, 0, 0],
      missing_left: [true, true, false, true, true],
      left: [1, -1, 3, -1, -1],
      right: [2, -1, 4, -1, -1],
      value: [0, -0.15, 0, 0.05, 0.12],
      count: [300, 180, 120, 50, 70],
      gain: [20.5, 0, 3.25, 0, 0],
      depth: [0, 1, 1, 2, 2]
    },
    {
      feature: [-1],
      threshold: [0],
      missing_left: [true],
      left: [-1],
      right: [-1],
      value: [0.01],
      count: [300],
      gain: [0],
      depth: [0]
    }
  ],
  report: {
    title: 'Feature importance',
    header: ['feature', 'share of gain'],
    rows: [
      ['radius', 0.863],
      ['age', 0.137]
    ],
    note: '2 trees; total split gain per input, normalised'
  }
};

/** A lake table with categorical columns, as `GET collab/lakes` lists it. */
export const admissionsTable: ILakeTable = {
  name: 'admissions',
  rows: 'at least 100',
  columns: [
    {
      name: 'patient_id',
      type: 'string',
      private: true,
      kind: 'text',
      categories: null
    },
    { name: 'age', type: 'double', private: false, kind: 'numeric', categories: null },
    {
      name: 'ward',
      type: 'string',
      private: false,
      kind: 'categorical',
      categories: ['cardio', 'neuro', 'ortho', 'onco']
    },
    {
      name: 'diagnosis',
      type: 'string',
      private: false,
      kind: 'categorical',
      categories: Array.from({ length: 12 }, (_, i) => `D${i + 1}`)
    },
    {
      name: 'smoker',
      type: 'boolean',
      private: false,
      kind: 'boolean',
      categories: null
    },
    { name: 'admitted', type: 'date', private: false, kind: 'date', categories: null },
    { name: 'note', type: 'string', private: false, kind: 'text', categories: null },
    {
      name: 'species',
      type: 'string',
      private: false,
      kind: 'categorical',
      categories: ['Adelie', 'Chinstrap', 'Gentoo']
    }
  ]
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
          { name: 'radius', type: 'double', private: false, kind: 'numeric' },
          { name: 'texture', type: 'double', private: false, kind: 'numeric' },
          { name: 'patient_name', type: 'string', private: true, kind: 'text' },
          { name: 'malignant', type: 'boolean', private: false, kind: 'binary' },
          { name: 'notes', type: 'string', private: false, kind: 'text' }
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
