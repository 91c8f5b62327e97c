import { graphql } from './graphql.ts';
import { AssessmentFields, ImageFields, ItemFields, ModelFields, RegionFields, SessionFields, TrainingPage } from './fragments.ts';

/**
 * Every operation the dashboard sends. The build writes them (with their fragments) to
 * dist/dashboard/trusted-documents.json, the gateway's trusted documents for the page;
 * `tsc -p dashboard` checks each against schema.graphql.
 */

// ---- session
export const SignIn = graphql(`mutation SignIn($name: String!, $password: String!) { signIn(name: $name, password: $password) { ...SessionFields } }`, [
  SessionFields,
]);
export const RefreshSession = graphql(`mutation RefreshSession { refreshSession { ...SessionFields } }`, [SessionFields]);
export const SignInOptions = graphql(`query SignInOptions { signInOptions { singleSignOnUrl singleSignOnLabel } }`);
export const SignOut = graphql(`mutation SignOut { signOut }`);

// ---- targets, models, training pictures
export const Targets = graphql(`query Targets { targets { id name isDefault } algorithms { id name version type description } }`);
export const TargetView = graphql(
  `
  query TargetView($id: ID!) {
    target(id: $id) {
      id name
      models(first: 50) { totalCount edges { node { ...ModelFields } } }
      activations(first: 10) { id at by model { id name version } previousModel { id name version } }
    }
  }
`,
  [ModelFields],
);
export const TrainingItems = graphql(
  `query TrainingItems($id: ID!, $after: String) { target(id: $id) { trainingItems: items(type: TRAINING, first: 100, after: $after) { ...TrainingPage } } }`,
  [TrainingPage],
);
export const CreateTarget = graphql(`mutation CreateTarget($name: String!) { createTarget(name: $name) { id name isDefault } }`);
export const DeleteModels = graphql(`mutation DeleteModels($ids: [ID!]!) { deleteModels(ids: $ids) }`);
export const SetThreshold = graphql(
  `mutation SetThreshold($modelId: ID!, $threshold: Float!) { updatePredictParameters(modelId: $modelId, threshold: $threshold) { ...ModelFields } }`,
  [ModelFields],
);
export const ScoreLabelled = graphql(
  `query ScoreLabelled($modelId: ID!, $itemIds: [ID!]!) { scoreItems(modelId: $modelId, itemIds: $itemIds) { score item { id good } } }`,
);
export const ModelSensitivity = graphql(`query ModelSensitivity($id: ID!) { model(id: $id) { stats { sensitivity { kind size contrast scores } } } }`);
export const AddToTraining = graphql(`mutation AddToTraining($itemIds: [ID!]!, $good: Boolean!) { addToTraining(itemIds: $itemIds, good: $good) { id good } }`);
export const AnnotateItem = graphql(`
  mutation AnnotateItem($id: ID!, $annotations: [AnnotationInput!]!, $good: Boolean) {
    annotateItem(id: $id, annotations: $annotations, good: $good) { id good userAssessment { annotations { id xMin xMax yMin yMax } } }
  }
`);
export const AddTrainingItems = graphql(`
  mutation AddTrainingItems($files: [File!]!, $good: Boolean!, $targetId: ID) {
    addItems(files: $files, training: true, good: $good, targetId: $targetId) { items { id } }
  }
`);
export const TrainModel = graphql(
  `mutation TrainModel($algorithmId: ID!, $name: String, $targetId: ID) { trainModel(algorithmId: $algorithmId, name: $name, targetId: $targetId) { ...ModelFields } }`,
  [ModelFields],
);
export const ActivateModel = graphql(`mutation ActivateModel($id: ID!) { activateModel(id: $id) { ...ModelFields } }`, [ModelFields]);
export const CancelTraining = graphql(`mutation CancelTraining($modelId: ID!) { cancelTraining(modelId: $modelId) { ...ModelFields } }`, [ModelFields]);
export const ExportModels = graphql(`mutation ExportModels($ids: [ID!]!) { exportModels(ids: $ids) { url expiresAt } }`);
export const ImportModels = graphql(`mutation ImportModels($file: File!, $targetId: ID) { importModels(file: $file, targetId: $targetId) { id name } }`);

// ---- people and API clients
export const People = graphql(`
  query People {
    users { id name role disabled sessions { lastSeenAt } }
    apiClients { clientId name scopes createdAt revokedAt }
  }
`);
export const CreateUser = graphql(
  `mutation CreateUser($name: String!, $role: Role!, $password: String!) { createUser(name: $name, role: $role, password: $password) { id } }`,
);
export const UpdateUser = graphql(
  `mutation UpdateUser($id: ID!, $role: Role, $disabled: Boolean) { updateUser(id: $id, role: $role, disabled: $disabled) { id } }`,
);
export const DeleteUser = graphql(`mutation DeleteUser($id: ID!) { deleteUser(id: $id) }`);
export const RevokeUserSessions = graphql(`mutation RevokeUserSessions($id: ID!) { revokeUserSessions(id: $id) }`);
export const CreateApiClient = graphql(
  `mutation CreateApiClient($name: String, $scopes: [String!]!) { createApiClient(name: $name, scopes: $scopes) { client { clientId } clientSecret } }`,
);
export const RotateApiClientSecret = graphql(
  `mutation RotateApiClientSecret($clientId: String!) { rotateApiClientSecret(clientId: $clientId) { client { clientId } clientSecret } }`,
);
export const RevokeApiClient = graphql(`mutation RevokeApiClient($clientId: String!) { revokeApiClient(clientId: $clientId) { clientId revokedAt } }`);

// ---- live results and predictions
export const RecentResults = graphql(
  `
  query RecentResults($modelId: ID!) {
    items(type: PREDICTION, modelId: $modelId, first: 24) {
      edges { node { ...ItemFields assessments(modelId: $modelId) { ...AssessmentFields } } }
    }
  }
`,
  [ItemFields, AssessmentFields],
);
export const PredictionFeed = graphql(
  `subscription PredictionFeed($modelId: ID!) { predictionResults(modelId: $modelId) { assessment { ...AssessmentFields } item { ...ItemFields } } }`,
  [AssessmentFields, ItemFields],
);
export const TrainingFeed = graphql(`subscription TrainingFeed { trainingProgress { progress stage status message model { ...ModelFields } } }`, [ModelFields]);
export const PredictImages = graphql(
  `mutation PredictImages($modelId: ID!, $files: [File!]!) { predictImages(modelId: $modelId, files: $files) { ...AssessmentFields item { ...ItemFields } } }`,
  [AssessmentFields, ItemFields],
);

// ---- regions
export const TargetRegions = graphql(
  `
  query TargetRegions($id: ID!) {
    target(id: $id) {
      id name regions { ...RegionFields }
      reference: items(type: TRAINING, first: 1) { edges { node { images { ...ImageFields } } } }
    }
  }
`,
  [RegionFields, ImageFields],
);
export const ModelRegions = graphql(
  `query ModelRegions($id: ID!) { model(id: $id) { id name version imageUrl regionsInherited regions { ...RegionFields } } }`,
  [RegionFields],
);
export const SetRegions = graphql(
  `
  mutation SetRegions($targetId: ID, $modelId: ID, $regions: [RegionInput!]!) {
    setRegions(targetId: $targetId, modelId: $modelId, regions: $regions) { inherited regions { ...RegionFields } }
  }
`,
  [RegionFields],
);
export const ResetModelRegions = graphql(
  `mutation ResetModelRegions($modelId: ID!) { resetModelRegions(modelId: $modelId) { inherited regions { ...RegionFields } } }`,
  [RegionFields],
);
