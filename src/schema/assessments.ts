import { AssessmentResult as AssessmentResultValues, type AnnotationRecord, type AssessmentRecord, type ItemRecord } from '../runtime/store/types.ts';
import { builder } from './builder.ts';

export const AssessmentResult = builder.enumType('AssessmentResult', {
  values: Object.values(AssessmentResultValues),
});

export const Assessment = builder.objectRef<AssessmentRecord>('Assessment');
export const Annotation = builder.objectRef<AnnotationRecord>('Annotation');
/** The user's label and boxes of one item; resolved from the item. */
export const UserAssessment = builder.objectRef<ItemRecord>('UserAssessment');

export const AnnotationInput = builder.inputType('AnnotationInput', {
  description: 'A box in pixels of the original image',
  fields: (t) => ({
    xMin: t.float(),
    xMax: t.float(),
    yMin: t.float(),
    yMax: t.float(),
    label: t.int(),
    notes: t.string(),
    score: t.float(),
  }),
});
