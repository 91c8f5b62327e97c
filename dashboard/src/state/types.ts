import type { ResultOf } from '../graphql/graphql.ts';
import type { AssessmentFields, ItemFields, ModelFields, RegionFields } from '../graphql/fragments.ts';
import type { Targets, TargetView } from '../graphql/operations.ts';

export type Model = ResultOf<typeof ModelFields>;
export type Item = ResultOf<typeof ItemFields>;
export type Image = Item['images'][number];
/** An assessment with its item: one card of the live results. */
export type Result = ResultOf<typeof AssessmentFields> & { item: Item };
export type Box = Result['annotations'][number];
export type Region = ResultOf<typeof RegionFields>;
export type Target = ResultOf<typeof Targets>['targets'][number];
export type Algorithm = ResultOf<typeof Targets>['algorithms'][number];
export type TargetData = NonNullable<ResultOf<typeof TargetView>['target']>;
