import type { NewModel } from '../src/runtime/store/store.ts';

/** A model row as tests need one: READY, version 1, threshold 0.5, no training items. */
export const newModel = (fields: Pick<NewModel, 'name' | 'algorithmId' | 'targetId'> & Partial<NewModel>): NewModel => ({
  version: '1',
  status: 'READY',
  params: {},
  predictParameters: { threshold: 0.5, ignoreOuter: 0, minDetectedArea: 0 },
  trainItemIds: [],
  okImageCount: 1,
  ngImageCount: 0,
  ...fields,
});
