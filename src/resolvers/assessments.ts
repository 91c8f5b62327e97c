import { Annotation, Assessment, AssessmentResult } from '../schema/assessments.ts';
import { builder } from '../schema/builder.ts';
import { Image, Item } from '../schema/items.ts';
import { Model } from '../schema/models.ts';

builder.node(Assessment, {
  description: "A model's judgement of one item",
  id: { resolve: (assessment) => assessment.id },
  loadManyWithoutCache: (ids, ctx) => ctx.loaders.assessment.loadMany(ids).then((r) => r.map((a) => (a instanceof Error ? null : a))),
  fields: (t) => ({
    item: t.field({ type: Item, resolve: (a, _args, ctx) => ctx.loaders.item.load(a.itemId) }),
    model: t.field({ type: Model, resolve: (a, _args, ctx) => ctx.loaders.model.load(a.modelId) }),
    result: t.field({ type: AssessmentResult, resolve: (a) => a.result }),
    label: t.exposeString('label', { nullable: true }),
    score: t.exposeFloat('score', { description: 'Raw anomaly score' }),
    threshold: t.exposeFloat('threshold', { description: 'The threshold the score was judged against' }),
    detectedObjects: t.exposeInt('detectedObjects'),
    detectionAccuracy: t.exposeInt('detectionAccuracy', { nullable: true, description: 'Confidence in percent' }),
    annotations: t.field({
      type: [Annotation],
      description: 'Boxes of detected defects, in pixels of the original image',
      resolve: (a, _args, ctx) => ctx.loaders.annotationsByAssessment.load(a.id),
    }),
    images: t.field({
      type: [Image],
      description: 'At least the heatmap overlay',
      resolve: (a, _args, ctx) => ctx.loaders.imagesByAssessment.load(a.id),
    }),
    createdAt: t.field({ type: 'DateTime', resolve: (a) => a.createdAt }),
  }),
});

builder.objectType(Annotation, {
  description: 'A box in pixels of the original image',
  fields: (t) => ({
    id: t.exposeID('id'),
    restId: t.exposeInt('key', { description: 'The integer id the REST API uses (annotation_id)' }),
    xMin: t.exposeFloat('xMin', { nullable: true }),
    xMax: t.exposeFloat('xMax', { nullable: true }),
    yMin: t.exposeFloat('yMin', { nullable: true }),
    yMax: t.exposeFloat('yMax', { nullable: true }),
    label: t.exposeInt('label', { nullable: true }),
    notes: t.exposeString('notes', { nullable: true }),
    score: t.exposeFloat('score', { nullable: true }),
    createdAt: t.field({ type: 'DateTime', resolve: (a) => a.createdAt }),
  }),
});
