import { ModelStatus as ModelStatusValues, type ModelRecord, type ModelStats, type PredictParameters } from '../runtime/store/types.ts';
import type { SensitivityReading } from '../model-stats.ts';
import { builder } from './builder.ts';

export const ModelStatus = builder.enumType('ModelStatus', {
  values: Object.values(ModelStatusValues),
});

export const Model = builder.objectRef<ModelRecord>('Model');
/** The stats with the threshold the model judges by now, when known (the sensitivity is read at it). */
export const ModelStatsType = builder.objectRef<ModelStats & { threshold?: number }>('ModelStats');
export const DefectSensitivity = builder.objectRef<SensitivityReading>('DefectSensitivity');
export const DefectProbeKind = builder.enumType('DefectProbeKind', {
  values: { SPOT: { value: 'spot', description: 'A round spot' }, LINE: { value: 'line', description: 'A straight scratch, 1.5 px wide' } } as const,
});
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
