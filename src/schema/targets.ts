import type { Preprocessing, TargetRecord } from '../runtime/store/types.ts';
import { builder } from './builder.ts';

export const Target = builder.objectRef<TargetRecord>('Target');

export const PreprocessingType = builder.objectRef<Preprocessing>('Preprocessing').implement({
  description: 'One preprocessing step of a target, as in the REST API',
  fields: (t) => ({
    name: t.exposeString('name'),
    active: t.exposeBoolean('active', { nullable: true }),
    config: t.exposeString('config', { nullable: true }),
  }),
});

export const PreprocessingInput = builder.inputType('PreprocessingInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    active: t.boolean(),
    config: t.string(),
  }),
});
