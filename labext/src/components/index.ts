export * from './Categories';
export * from './format';
export * from './JobView';
export * from './LakesView';
export * from './LossCurve';
export * from './ModelView';
export * from './PlanView';
export * from './SchemaView';
