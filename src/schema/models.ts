import { ModelStatus as ModelStatusValues, type ModelRecord, type ModelStats, type PredictParameters } from '../runtime/store/types.ts';
import { builder } from './builder.ts';

export const ModelStatus = builder.enumType('ModelStatus', {
  values: Object.values(ModelStatusValues),
});

export const Model = builder.objectRef<ModelRecord>('Model');
export const ModelStatsType = builder.objectRef<ModelStats>('ModelStats');
export const Metric = builder.objectRef<{ computed: number | null; projected: number | null }>('Metric');
export const PredictParametersType = builder.objectRef<PredictParameters>('PredictParameters');

/** One algorithm parameter overridden for a training run, by parameter id or by name. */
export const OverrideParamInput = builder.inputType('OverrideParamInput', {
  fields: (t) => ({
    parameterId: t.id({ description: 'The AlgorithmParameter id; or give `name`' }),
    name: t.string({ description: 'The parameter name, e.g. "threshold"; or give `parameterId`' }),
    value: t.string({ required: true }),
  }),
});
