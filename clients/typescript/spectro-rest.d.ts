export interface AddItemRequest {
  files?: File[];
  /** Tags every file as Good (true) or Bad (false) */
  good?: boolean;
  /**
   * The items join the target of this model ("active" allowed)
   * @minLength 1
   */
  model_id?: string;
  /**
   * The target the items join (default: the target of model_id, else the default target)
   * @format int32
   */
  target_id?: number;
  /** true: training items, false: prediction items */
  training: boolean;
}
export interface AddItemResponse {
  item_ids?: string[];
}
export interface AddItemResponseWrapper {
  data?: AddItemResponse;
}
export interface AlgorithmParameter {
  algorithm_id: string;
  /**
   * @format int32
   * @min -2147483648
   * @max 2147483647
   */
  algorithm_parameter_id?: number;
  /**
   * @format date-time
   * @example "2020-10-19T10:35:37Z"
   */
  created_at: string;
  data_type?: string;
  display_name?: string | null;
  model_parameter?: boolean | null;
  name: string;
  range_lower?: string | null;
  range_upper?: string | null;
  /**
   * @format date-time
   * @example "2020-10-19T10:35:37Z"
   */
  updated_at: string;
  value?: string | null;
}
/** @example {"created_at":"2020-10-19T10:35:37Z","name":"Pattern Matching","parameters":[{"created_at":"2020-10-19T10:35:37Z","value":"0.1","range_upper":null,"display_name":"Threshold","name":"threshold","data_type":"float","updated_at":"2020-10-19T10:35:37Z","range_lower":"0","algorithm_id":"pattern-matching","model_parameter":true,"algorithm_parameter_id":7}],"version":"1.0.0","attribute":"aligned parts","algorithm_id":"pattern-matching","type":"golden-image","file_name":"pattern-matching.ts","class_name":"PatternMatching","updated_at":"2020-10-19T10:35:37Z"} */
export interface AlgorithmWithParameter {
  algorithm_id: string;
  attribute?: string;
  class_name: string;
  /**
   * @format date-time
   * @example "2020-10-19T10:35:37Z"
   */
  created_at: string;
  /** What the algorithm does and when to use it */
  description?: string | null;
  file_name: string;
  name: string;
  parameters?: AlgorithmParameter[];
  type?: string;
  /**
   * @format date-time
   * @example "2020-10-19T10:35:37Z"
   */
  updated_at: string;
  version?: string | null;
}
export interface AlgorithmWithParameterListWrapper {
  data?: AlgorithmWithParameter[];
}
export interface AlgorithmWithParameterWrapper {
  data?: AlgorithmWithParameter;
}
/** @example {"annotations":[{"x_max":40,"x_min":10,"y_max":52,"y_min":30,"label":1,"notes":"scratch"}]} */
export interface AnnotateItemRequest {
  /**
   * Replaces the user's boxes; [] clears them, absent leaves them
   * @maxItems 1000
   */
  annotations?: RequestAnnotation[];
}
export interface Annotation {
  /**
   * @format int32
   * @min -2147483648
   * @max 2147483647
   */
  annotation_id?: number;
  /**
   * @format date-time
   * @example "2020-10-19T10:35:37Z"
   */
  created_at: string;
  /**
   * @format int32
   * @min -2147483648
   * @max 2147483647
   */
  label?: number | null;
  notes?: string | null;
  /** A detected box's anomaly score (null for the user's boxes) */
  score?: number | null;
  x_max?: number | null;
  x_min?: number | null;
  y_max?: number | null;
  y_min?: number | null;
}
export interface AssessmentItem {
  annotations?: Annotation[];
  /**
   * When the prediction was made
   * @format date-time
   * @example "2020-10-19T10:35:37Z"
   */
  created_at?: string;
  /**
   * @format int32
   * @min -2147483648
   * @max 2147483647
   */
  detected_objects?: number | null;
  /**
   * @format int32
   * @min -2147483648
   * @max 2147483647
   */
  detection_accuracy?: number | null;
  images?: ItemImageMeta[];
  label?: string;
  model_id?: string;
  result?: "GOOD" | "BAD";
  /** The raw anomaly score */
  score?: number;
  /** The threshold the score was judged against */
  threshold?: number;
}
export interface AssessmentItem1 {
  annotations?: Annotation[];
  images?: ItemImageMeta[];
  label?: string;
  /** The user's OK/NG label: GOOD or BAD */
  result?: "GOOD" | "BAD";
}
/** @example {"errors":{"detail":"item_ids: must not be empty","message":[{"errors":["must not be empty"],"key":"item_ids"}],"source":{"pointer":"/api/v1/models/active/predict"},"title":"Unprocessable Entity","status":422,"code":"BAD_USER_INPUT"}} */
export interface BaseError {
  /** OAuth2 error code (POST /api/auth/token only) */
  error?: string;
  /** OAuth2 error description (POST /api/auth/token only) */
  error_description?: string;
  errors?: Error;
}
export interface Error {
  /** The same code GraphQL puts in extensions.code */
  code?:
    | "UNAUTHENTICATED"
    | "FORBIDDEN"
    | "NOT_FOUND"
    | "BAD_USER_INPUT"
    | "UNSUPPORTED_MEDIA"
    | "PAYLOAD_TOO_LARGE"
    | "CONFLICT"
    | "RATE_LIMITED"
    | "UNAVAILABLE"
    | "INTERNAL_SERVER_ERROR";
  /** Error Details */
  detail?: string;
  message?: KeyValueError[];
  /** Names the log lines of this request (unexpected errors) */
  request_id?: string;
  source?: ErrorSource;
  /**
   * Error status code
   * @format int32
   * @min -2147483648
   * @max 2147483647
   */
  status?: number;
  /** Error Title */
  title?: string;
}
export interface ErrorSource {
  /** Endpoint errored */
  pointer?: string;
}
export interface GetItemsResponse {
  /**
   * @format int32
   * @min -2147483648
   * @max 2147483647
   */
  count_per_page?: number;
  /**
   * @format int32
   * @min -2147483648
   * @max 2147483647
   */
  current_page?: number;
  /**
   * @format int32
   * @min -2147483648
   * @max 2147483647
   */
  end_page?: number;
  items?: Item[];
  /**
   * Items matching the filter, all pages together
   * @format int32
   * @min -2147483648
   * @max 2147483647
   */
  total_count?: number;
}
export interface GetItemsResponseWrapper {
  data?: GetItemsResponse;
}
/** @example {"created_at":"2020-10-19T10:35:37Z","stats":{"accuracy":0.97,"precision":{"computed":0.95,"projected":0.93},"recall":{"computed":1,"projected":0.96}},"training_time":12,"model_id":"0190b0c4-6f1e-7c3a-9d52-1a2b3c4d5e70","name":"bolts-v1","ok_img_count":20,"ng_img_count":4,"status_text":null,"version":"1","image_url":null,"precision":0.95,"active":true,"algorithm_id":"pattern-matching","algorithm_type":"golden-image","context_id":1,"status":"READY","updated_at":"2020-10-19T10:35:37Z","recall":1} */
export interface HModel {
  active?: boolean | null;
  algorithm_id: string;
  algorithm_type: string;
  /**
   * The model's inspection target (its target_id)
   * @format int32
   * @min -2147483648
   * @max 2147483647
   */
  context_id: number;
  /**
   * @format date-time
   * @example "2020-10-19T10:35:37Z"
   */
  created_at: string;
  image_url?: string | null;
  model_id: string;
  name: string;
  /**
   * @format int32
   * @min -2147483648
   * @max 2147483647
   */
  ng_img_count?: number;
  /**
   * @format int32
   * @min -2147483648
   * @max 2147483647
   */
  ok_img_count?: number;
  precision?: number | null;
  /** How the model judges */
  predict_parameters?: PredictParameters;
  /** 0..1 while training, 1 when READY */
  progress?: number;
  recall?: number | null;
  stats?: HModelStats;
  status?: "QUEUED" | "TRAINING" | "READY" | "FAILED" | "CANCELLED";
  status_text?: string | null;
  /**
   * Seconds, rounded
   * @format int32
   * @min -2147483648
   * @max 2147483647
   */
  training_time?: number | null;
  /**
   * @format date-time
   * @example "2020-10-19T10:35:37Z"
   */
  updated_at: string;
  version: string;
}
export interface HModelListWrapper {
  data?: HModel[];
}
export interface HModelPrecision {
  computed?: number | null;
  projected?: number | null;
}
export interface HModelStats {
  accuracy?: number | null;
  /** How the figures were computed (held-out split, counts) */
  method?: string | null;
  precision?: HModelPrecision;
  recall?: HModelPrecision;
}
export interface HModelWrapper {
  data?: HModel;
}
export interface ImportModels {
  /** @format binary */
  models?: File;
  /**
   * The target the models join (default: the default target)
   * @format int32
   */
  target_id?: number;
}
/** @example {"name":"bolts","target_id":1,"preprocessing":[{"name":"crop","active":true,"config":"0,0,256,256"}],"is_default":true} */
export interface InspectionTarget {
  /** True for the default target (where uploads go without model_id) */
  is_default?: boolean;
  name?: string;
  preprocessing?: Preprocessing[];
  /**
   * @format int32
   * @min -2147483648
   * @max 2147483647
   */
  target_id?: number;
}
export interface InspectionTargetListWrapper {
  data?: InspectionTarget[];
}
export interface InspectionTargetWrapper {
  data?: InspectionTarget;
}
export interface Item {
  active?: boolean;
  assessments?: AssessmentItem[];
  /**
   * When it was uploaded
   * @format date-time
   * @example "2020-10-19T10:35:37Z"
   */
  created_at?: string;
  /** The user's OK (true) / NG (false) label; null when unlabelled */
  good?: boolean | null;
  images?: ItemImageMeta[];
  is_training_data?: boolean;
  item_id?: string;
  name?: string;
  /** PREDICTED once a model has judged it, else UPLOADED */
  status?: "UPLOADED" | "PREDICTED";
  /**
   * The item's inspection target
   * @format int32
   * @min -2147483648
   * @max 2147483647
   */
  target_id?: number;
  user_assessment?: AssessmentItem1;
}
export interface ItemIdsResponseWrapper {
  data?: {
    item_ids: string[];
  };
}
export interface ItemImageMeta {
  /**
   * @format int32
   * @min -2147483648
   * @max 2147483647
   */
  file_size?: number;
  /**
   * @format int32
   * @min -2147483648
   * @max 2147483647
   */
  height?: number;
  name?: string;
  /** Signed link to the bytes; works without headers until it expires */
  url?: string;
  /**
   * @format int32
   * @min -2147483648
   * @max 2147483647
   */
  width?: number;
}
export interface ItemWrapper {
  data?: Item;
}
export interface KeyValueError {
  errors?: string[];
  /** Error key: the REST field (`item_ids`, `annotations.0.x_min`) */
  key?: string;
}
export interface License {
  /** @format binary */
  license_data?: File | string;
}
export interface LicenseHashResponse {
  hash_id?: string;
}
export interface LicenseHashResponseWrapper {
  data?: LicenseHashResponse;
}
export interface LicenseResponse {
  /** ISO 8601; absent for a perpetual license */
  license_expiry?: string;
  /** Signed by the vendor key, for this installation, and not expired */
  valid?: boolean;
}
export interface LicenseResponseWrapper {
  data?: LicenseResponse;
}
/**
 * login parameters
 * @example {"grant_type":"client_credentials","client_secret":"client_secret","client_id":"client_id"}
 */
export interface LoginParams {
  client_id: string;
  client_secret: string;
  grant_type: string;
}
/**
 * response object of login
 * @example {"access_token":"access_token"}
 */
export interface LoginResponse {
  access_token: string;
  /**
   * Seconds the token is valid for
   * @format int32
   * @min -2147483648
   * @max 2147483647
   */
  expires_in?: number;
  /** Always "Bearer" */
  token_type?: "Bearer";
}
export interface ModelIdsQuery {
  model_ids?: string[];
  [key: string]: any;
}
export interface ModelIdsQueryWrapper {
  data?: ModelIdsQuery;
}
export interface OverrideParam {
  /**
   * @format int32
   * @min -2147483648
   * @max 2147483647
   */
  algorithm_parameter_id?: number;
  /** The parameter by name, instead of algorithm_parameter_id */
  name?: string;
  value?: string;
}
export interface Predict {
  item_ids?: string[];
}
export interface PredictItemsResponse {
  item_ids?: string[];
  /** The background job (GraphQL predictionJob) */
  job_id?: string;
  /** The model that predicts (the concrete one when "active" was asked for) */
  model_id?: string;
  model_version?: string;
}
export interface PredictItemsResponseWrapper {
  data?: PredictItemsResponse;
}
/** How a trained model judges (changeable without retraining) */
export interface PredictParameters {
  /**
   * @format int32
   * @min -2147483648
   * @max 2147483647
   */
  ignore_outer: number;
  /**
   * @format int32
   * @min -2147483648
   * @max 2147483647
   */
  min_detected_area: number;
  threshold: number;
}
export interface Preprocessing {
  active?: boolean | null;
  config?: string | null;
  name: string;
}
/** A region of interest (docs/regions.md) */
export interface Region {
  label: string | null;
  mode: "INCLUDE" | "EXCLUDE";
  points: number[][];
  sensitivity: number;
}
/** A region of interest to set */
export interface RegionInput {
  label?: string | null;
  mode: "INCLUDE" | "EXCLUDE";
  /** 3..200 vertices in order; the polygon closes itself */
  points: number[][];
  /** 0.1..10, default 1; INCLUDE regions only */
  sensitivity?: number | null;
}
export interface RegionsBody {
  /** At most 32; empty: the whole picture is judged */
  regions: RegionInput[];
}
export interface RegionsWrapper {
  data: {
    /** True when the model has none of its own and judges with its target's */
    inherited: boolean;
    /** The model, when the regions are a model's */
    model_id: string | null;
    /** What the owner judges with: a model's own regions, else its target's */
    regions: Region[];
    /**
     * The target (its target_id), or the model's target
     * @format int32
     * @min -2147483648
     * @max 2147483647
     */
    target_id: number;
  };
}
export interface RequestAnnotation {
  /**
   * @format int32
   * @min -2147483648
   * @max 2147483647
   */
  label?: number | null;
  /** @maxLength 2000 */
  notes?: string;
  /**
   * Pixels of the original picture
   * @format int32
   * @min -2147483648
   * @max 2147483647
   */
  x_max?: number | null;
  /**
   * Pixels of the original picture
   * @format int32
   * @min -2147483648
   * @max 2147483647
   */
  x_min?: number | null;
  /**
   * Pixels of the original picture
   * @format int32
   * @min -2147483648
   * @max 2147483647
   */
  y_max?: number | null;
  /**
   * Pixels of the original picture
   * @format int32
   * @min -2147483648
   * @max 2147483647
   */
  y_min?: number | null;
}
/** @example {"name":"bolts-v1","item_ids":["0190b0c4-6f1e-7c3a-9d52-1a2b3c4d5e6f"],"override_params":[{"algorithm_parameter_id":7,"value":"0.2"}]} */
export interface TrainRequest {
  item_ids?: string[];
  name?: string;
  override_params?: OverrideParam[];
  /**
   * The target to train for (default: the default target)
   * @format int32
   * @min -2147483648
   * @max 2147483647
   */
  target_id?: number;
}
export type QueryParamsType = Record<string | number, any>;
export type ResponseFormat = keyof Omit<Body, "body" | "bodyUsed">;
export interface FullRequestParams extends Omit<RequestInit, "body"> {
  /** set parameter to `true` for call `securityWorker` for this request */
  secure?: boolean;
  /** request path */
  path: string;
  /** content type of request body */
  type?: ContentType;
  /** query params */
  query?: QueryParamsType;
  /** format of response (i.e. response.json() -> format: "json") */
  format?: ResponseFormat;
  /** request body */
  body?: unknown;
  /** base url */
  baseUrl?: string;
  /** request cancellation token */
  cancelToken?: CancelToken;
}
export type RequestParams = Omit<
  FullRequestParams,
  "body" | "method" | "query" | "path"
>;
export interface ApiConfig<SecurityDataType = unknown> {
  baseUrl?: string;
  baseApiParams?: Omit<RequestParams, "baseUrl" | "cancelToken" | "signal">;
  securityWorker?: (
    securityData: SecurityDataType | null,
  ) => Promise<RequestParams | void> | RequestParams | void;
  customFetch?: typeof fetch;
}
export interface HttpResponse<D extends unknown, E extends unknown = unknown>
  extends Response {
  data: D;
  error: E;
}
type CancelToken = Symbol | string | number;
export type ContentType =
  | "application/json"
  | "application/vnd.api+json"
  | "multipart/form-data"
  | "application/x-www-form-urlencoded"
  | "text/plain";
export declare class HttpClient<SecurityDataType = unknown> {
  baseUrl: string;
  private securityData;
  private securityWorker?;
  private abortControllers;
  private customFetch;
  private baseApiParams;
  constructor(apiConfig?: ApiConfig<SecurityDataType>);
  setSecurityData: (data: SecurityDataType | null) => void;
  protected encodeQueryParam(key: string, value: any): string;
  protected addQueryParam(query: QueryParamsType, key: string): string;
  protected addArrayQueryParam(query: QueryParamsType, key: string): any;
  protected toQueryString(rawQuery?: QueryParamsType): string;
  protected addQueryParams(rawQuery?: QueryParamsType): string;
  private contentFormatters;
  protected mergeRequestParams(
    params1: RequestParams,
    params2?: RequestParams,
  ): RequestParams;
  protected createAbortSignal: (
    cancelToken: CancelToken,
  ) => AbortSignal | undefined;
  abortRequest: (cancelToken: CancelToken) => void;
  request: <T = any, E = any>({
    body,
    secure,
    path,
    type,
    query,
    format,
    baseUrl,
    cancelToken,
    ...params
  }: FullRequestParams) => Promise<HttpResponse<T, E>>;
}
/**
 * @title Saas web detection v1
 * @version 1.0.0
 * @baseUrl /
 *
 * The REST API of spectro-rest-v1 ("Saas web detection v1"), served by the Spectro gateway next to its GraphQL API (/graphql).
 *
 * Every operation, schema, field name, type and status code of the original document is kept as it was. What the original does not have is marked `x-spectro-extension: true` (operations, fields, parameters): extra response fields that clients generated from the original simply ignore, and a few extra routes (activate a model, delete items, this document).
 *
 * - Integer ids (target_id, context_id, algorithm_parameter_id, annotation_id) are the records' stable integer keys. Item and model ids are strings (the same ids GraphQL uses).
 * - Enum values are upper case everywhere (JSON, results CSV, GraphQL): a model's status is QUEUED, TRAINING, READY, FAILED or CANCELLED; a result is GOOD or BAD.
 * - Every failure answers the BaseError shape; `message[].key` names the REST field (`item_ids`, `annotations.0.x_min`).
 * - Prediction results are also pushed: webhooks (managed in GraphQL) and MQTT, see `webhooks` below and docs/integration.md.
 */
export declare class Api<
  SecurityDataType extends unknown,
> extends HttpClient<SecurityDataType> {
  spectro: {
    /**
     * @description Returns the access token (OAuth2 client credentials). Also accepts the fields form-encoded, and client_id/client_secret as HTTP Basic.
     *
     * @tags Spectro
     * @name Login
     * @summary Authorization
     * @request POST:/api/auth/token
     */
    login: (
      data: LoginParams,
      params?: RequestParams,
    ) => Promise<HttpResponse<LoginResponse, BaseError>>;
    /**
     * @description Extension: the OpenAPI 3.1 document of this API (no token needed).
     *
     * @tags Spectro
     * @name GetOpenApiDocument
     * @summary This document
     * @request GET:/api/v1/openapi.json
     */
    getOpenApiDocument: (params?: RequestParams) => Promise<
      HttpResponse<
        {
          openapi: string;
          [key: string]: any;
        },
        any
      >
    >;
  };
  targets: {
    /**
     * @description Get all inspection targets created by user
     *
     * @tags targets
     * @name GetInspectionTargets
     * @summary Get List of Inpection Targets
     * @request GET:/api/v1/targets/
     * @secure
     */
    getInspectionTargets: (
      params?: RequestParams,
    ) => Promise<HttpResponse<InspectionTargetListWrapper, BaseError>>;
    /**
     * @description Get a single inspection target using the inspection target ID.
     *
     * @tags targets
     * @name GetInspectionTargetById
     * @summary Get Inspection Target by ID
     * @request GET:/api/v1/targets/{target_id}
     * @secure
     */
    getInspectionTargetById: (
      targetId: string,
      params?: RequestParams,
    ) => Promise<HttpResponse<InspectionTargetWrapper, BaseError>>;
    /**
     * @description Set the default inspection target using the inspection target ID.
     *
     * @tags targets
     * @name SetInspectionTargetById
     * @summary Set Default Inspection Target by ID
     * @request POST:/api/v1/targets/{target_id}
     * @secure
     */
    setInspectionTargetById: (
      targetId: string,
      params?: RequestParams,
    ) => Promise<HttpResponse<InspectionTargetWrapper, BaseError>>;
    /**
     * @description A CSV file (RFC 4180, UTF-8, CRLF) with one row per assessment of the models, newest first per model. Columns: model_id, model_name, model_version, assessment_id, item_id, item_name, result (GOOD or BAD, as in the JSON answers), score, threshold, detected_objects, detection_accuracy, label, boxes (`x_min y_min x_max y_max score` groups separated by `;`, pixels of the original picture), created_at. `model_ids` may be "active".
     *
     * @tags targets
     * @name GetModelResults
     * @summary Results of models as CSV
     * @request POST:/api/v1/targets/model/results
     * @secure
     */
    getModelResults: (
      query?: {
        /** Model ids ("active" allowed) */
        model_ids?: string[];
      },
      params?: RequestParams,
    ) => Promise<HttpResponse<string, BaseError>>;
    /**
     * @description The include/exclude polygons of the target, which its models judge with unless they have their own. Extension: Regions of interest are not in the original API; GraphQL setRegions / Target.regions / Model.regions do the same.
     *
     * @tags targets
     * @name GetTargetRegions
     * @summary Regions of interest of a target
     * @request GET:/api/v1/targets/{target_id}/regions
     * @secure
     */
    getTargetRegions: (
      targetId: string,
      params?: RequestParams,
    ) => Promise<HttpResponse<RegionsWrapper, BaseError>>;
    /**
     * @description Replaces the target's regions (422 naming the region that is wrong). Applies to predictions from now on. Extension: Regions of interest are not in the original API; GraphQL setRegions / Target.regions / Model.regions do the same.
     *
     * @tags targets
     * @name SetTargetRegions
     * @summary Set the regions of interest of a target
     * @request POST:/api/v1/targets/{target_id}/regions
     * @secure
     */
    setTargetRegions: (
      targetId: string,
      data: RegionsBody,
      params?: RequestParams,
    ) => Promise<HttpResponse<RegionsWrapper, BaseError>>;
  };
  algorithms: {
    /**
     * @description Returns list of available algorithms including parameters that can be used to create a model
     *
     * @tags algorithms
     * @name GetAlgorithms
     * @summary Get List of Algorithms
     * @request GET:/api/v1/algorithms/
     * @secure
     */
    getAlgorithms: (
      params?: RequestParams,
    ) => Promise<HttpResponse<AlgorithmWithParameterListWrapper, BaseError>>;
    /**
     * @description Get a single algorithm by ID
     *
     * @tags algorithms
     * @name GetAlgorithmById
     * @summary Get Algorithm by ID
     * @request GET:/api/v1/algorithms/{algorithm_id}
     * @secure
     */
    getAlgorithmById: (
      algorithmId: string,
      params?: RequestParams,
    ) => Promise<HttpResponse<AlgorithmWithParameterWrapper, BaseError>>;
    /**
     * @description Train a model. Answers at once with the model QUEUED (or TRAINING); GET /api/v1/models/{model_id} shows its progress until READY. Without item_ids, every training item of the target is used (NG-tagged ones pick the threshold and the stats).
     *
     * @tags algorithms
     * @name Train
     * @summary Train
     * @request POST:/api/v1/algorithms/{algorithm_id}/train
     * @secure
     */
    train: (
      algorithmId: string,
      data: TrainRequest,
      params?: RequestParams,
    ) => Promise<HttpResponse<HModelWrapper, BaseError>>;
  };
  models: {
    /**
     * @description Get all models of the default inspection target (the one training uses), or of `target_id` (newest first)
     *
     * @tags models
     * @name GetModels
     * @summary Get List of Models
     * @request GET:/api/v1/models/
     * @secure
     */
    getModels: (
      query?: {
        algorithm_id?: string;
        /**
         * The models of this target instead of the default one
         * @format int32
         */
        target_id?: number;
      },
      params?: RequestParams,
    ) => Promise<HttpResponse<HModelListWrapper, BaseError>>;
    /**
     * @description Delete models by id (list), with their assessments; a model in training is stopped first
     *
     * @tags models
     * @name DeleteModels
     * @summary Delete Models
     * @request DELETE:/api/v1/models/
     * @secure
     */
    deleteModels: (
      query?: {
        model_ids?: string[];
      },
      params?: RequestParams,
    ) => Promise<HttpResponse<ModelIdsQueryWrapper, BaseError>>;
    /**
     * @description Get a single model by ID ("active": the default target's active model)
     *
     * @tags models
     * @name GetModelById
     * @summary Get Model by ID
     * @request GET:/api/v1/models/{model_id}
     * @secure
     */
    getModelById: (
      modelId: string,
      params?: RequestParams,
    ) => Promise<HttpResponse<HModelWrapper, BaseError>>;
    /**
     * @description Makes a READY model its target's active one: the model that "active" names (409 for a model that is not READY). Extension: The original has no way to choose the active model over REST; GraphQL activateModel does the same.
     *
     * @tags models
     * @name ActivateModel
     * @summary Activate a model
     * @request POST:/api/v1/models/{model_id}/activate
     * @secure
     */
    activateModel: (
      modelId: string,
      params?: RequestParams,
    ) => Promise<HttpResponse<HModelWrapper, BaseError>>;
    /**
     * @description Export models given the Id: a zip with one folder per model holding manifest.json and model.onnx (docs/model-archive.md), importable by POST /api/v1/models/import here or on another server.
     *
     * @tags models
     * @name ExportModelsWithId
     * @summary Export models
     * @request POST:/api/v1/models/export
     * @secure
     */
    exportModelsWithId: (
      data: ModelIdsQuery,
      params?: RequestParams,
    ) => Promise<HttpResponse<Blob, BaseError>>;
    /**
     * @description Import models from the zip file (all or nothing); 422 says what is wrong with the archive.
     *
     * @tags models
     * @name ImportModels
     * @summary Import models
     * @request POST:/api/v1/models/import
     * @secure
     */
    importModels: (
      data: ImportModels,
      params?: RequestParams,
    ) => Promise<HttpResponse<HModelListWrapper, BaseError>>;
    /**
     * @description Predict items in the background. Each result is stored on its item (GET /api/v1/items/{item_id}) as soon as it is made, and pushed to webhooks and MQTT (docs/integration.md).
     *
     * @tags models
     * @name PredictItems
     * @summary Predict Items
     * @request POST:/api/v1/models/{model_id}/predict
     * @secure
     */
    predictItems: (
      modelId: string,
      data: Predict,
      params?: RequestParams,
    ) => Promise<HttpResponse<PredictItemsResponseWrapper, BaseError>>;
    /**
     * @description The model's own regions, else its target's (`inherited`). Extension: Regions of interest are not in the original API; GraphQL setRegions / Target.regions / Model.regions do the same.
     *
     * @tags models
     * @name GetModelRegions
     * @summary Regions of interest a model judges with
     * @request GET:/api/v1/models/{model_id}/regions
     * @secure
     */
    getModelRegions: (
      modelId: string,
      params?: RequestParams,
    ) => Promise<HttpResponse<RegionsWrapper, BaseError>>;
    /**
     * @description Replaces the model's own regions, which override its target's; an empty list judges the whole picture. Extension: Regions of interest are not in the original API; GraphQL setRegions / Target.regions / Model.regions do the same.
     *
     * @tags models
     * @name SetModelRegions
     * @summary Set a model's own regions of interest
     * @request POST:/api/v1/models/{model_id}/regions
     * @secure
     */
    setModelRegions: (
      modelId: string,
      data: RegionsBody,
      params?: RequestParams,
    ) => Promise<HttpResponse<RegionsWrapper, BaseError>>;
    /**
     * @description The model judges with its target's regions again. Extension: Regions of interest are not in the original API; GraphQL setRegions / Target.regions / Model.regions do the same.
     *
     * @tags models
     * @name ResetModelRegions
     * @summary Drop a model's own regions of interest
     * @request DELETE:/api/v1/models/{model_id}/regions
     * @secure
     */
    resetModelRegions: (
      modelId: string,
      params?: RequestParams,
    ) => Promise<HttpResponse<RegionsWrapper, BaseError>>;
  };
  items: {
    /**
     * @description Returns items based on given `item_type` (prediction, training), newest first, of the default inspection target (the one training uses), or of `target_id`; with `model_id`, the items that model judged or was trained on, and their assessments to that model. `page` starts at 1 (a page past the end has no items), `count` is 1..100 (default 20).
     *
     * @tags items
     * @name GetItemsByType
     * @summary Get List of Items
     * @request GET:/api/v1/items/
     * @secure
     */
    getItemsByType: (
      query: {
        /**
         * @format int32
         * @min 1
         * @max 100
         */
        count?: number;
        /** prediction or training (case-insensitive) */
        item_type: "prediction" | "training";
        model_id?: string;
        /**
         * @format int32
         * @min 1
         * @max 1000000
         */
        page?: number;
        /**
         * Only the items of this target
         * @format int32
         */
        target_id?: number;
      },
      params?: RequestParams,
    ) => Promise<HttpResponse<GetItemsResponseWrapper, BaseError>>;
    /**
     * @description Add prediction or training item/s, one per file (JPEG, PNG, WebP, TIFF, GIF; each decoded before anything is stored; one bad file fails the whole request). This endpoint also gives you an option to tag an item as Good or Bad. Items go to target_id, else to the target of model_id, else to the default target (created as "default" when there is none).
     *
     * @tags items
     * @name AddItem
     * @summary Add Item
     * @request POST:/api/v1/items/
     * @secure
     */
    addItem: (
      data: AddItemRequest,
      params?: RequestParams,
    ) => Promise<HttpResponse<AddItemResponseWrapper, BaseError>>;
    /**
     * @description Deletes items with their pictures and assessments. Extension: The original cannot delete items; the same as GraphQL deleteItems.
     *
     * @tags items
     * @name DeleteItems
     * @summary Delete Items
     * @request DELETE:/api/v1/items/
     * @secure
     */
    deleteItems: (
      query?: {
        item_ids?: string[];
      },
      params?: RequestParams,
    ) => Promise<HttpResponse<ItemIdsResponseWrapper, BaseError>>;
    /**
     * @description Get specific item and annotations. show_assessments and show_annotations default to true.
     *
     * @tags items
     * @name GetItemById
     * @summary Get Item by Id
     * @request GET:/api/v1/items/{item_id}
     * @secure
     */
    getItemById: (
      itemId: string,
      query?: {
        model_id?: string;
        show_annotations?: boolean;
        show_assessments?: boolean;
      },
      params?: RequestParams,
    ) => Promise<HttpResponse<ItemWrapper, BaseError>>;
    /**
     * @description Replaces the user's boxes on the item (pixels of the original picture).
     *
     * @tags items
     * @name Annotate
     * @summary Annotate an item
     * @request PATCH:/api/v1/items/{item_id}
     * @secure
     */
    annotate: (
      itemId: string,
      data: AnnotateItemRequest,
      params?: RequestParams,
    ) => Promise<HttpResponse<void, BaseError>>;
  };
  utils: {
    /**
     * @description Installs a license file (docs/license.md), as a multipart file part or a JSON string; 422 says why one is refused.
     *
     * @tags utils
     * @name SetLicense
     * @summary Set the license
     * @request POST:/api/v1/utils/
     * @secure
     */
    setLicense: (
      data: License,
      params?: RequestParams,
    ) => Promise<HttpResponse<LicenseResponseWrapper, BaseError>>;
    /**
     * @description A zip holding diagnostics.json: version, process, non-secret configuration, pub/sub state, counts and upstream health. The log itself goes to stdout as JSON lines, where the deployment collects it.
     *
     * @tags utils
     * @name GetLogs
     * @summary Diagnostics as a zip
     * @request POST:/api/v1/utils/debug
     * @secure
     */
    getLogs: (params?: RequestParams) => Promise<HttpResponse<Blob, BaseError>>;
    /**
     * @description Identifies this installation; a license is issued for it.
     *
     * @tags utils
     * @name GetHashId
     * @summary Installation hash
     * @request POST:/api/v1/utils/node_hash
     * @secure
     */
    getHashId: (
      params?: RequestParams,
    ) => Promise<HttpResponse<LicenseHashResponseWrapper, BaseError>>;
  };
}
export {};
