import { graphql } from './graphql.ts';

export const ModelFields = graphql(`
  fragment ModelFields on Model {
    id name version status statusText progress stage active
    okImageCount ngImageCount trainingTime updatedAt
    algorithm { id name }
    predictParameters { threshold }
    stats { accuracy }
  }
`);

export const ImageFields = graphql(`fragment ImageFields on Image { url width height name }`);

export const ItemFields = graphql(`fragment ItemFields on Item { id name createdAt images { ...ImageFields } }`, [ImageFields]);

export const AssessmentFields = graphql(
  `
  fragment AssessmentFields on Assessment {
    id result label score threshold detectedObjects detectionAccuracy createdAt
    model { id }
    annotations { xMin xMax yMin yMax score }
    images { ...ImageFields }
  }
`,
  [ImageFields],
);

export const SessionFields = graphql(`fragment SessionFields on Session { accessToken expiresIn sessionExpiresAt user { id name role scopes } }`);

export const TrainingPage = graphql(`fragment TrainingPage on ItemConnection { totalCount pageInfo { hasNextPage endCursor } edges { node { id good } } }`);

export const RegionFields = graphql(`fragment RegionFields on Region { mode sensitivity label points { x y } }`);
