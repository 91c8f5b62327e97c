import { binary, dateTime, ext, int32, int32OrNull, textBool, textId, z } from './zod.ts';

// The schemas of spectro-rest-v1 (the original document's "Schemas" section), with its names,
// property types, nullability ("numbernull" = number or null) and required fields. Fields the
// original does not have are `ext(...)`: documented as extensions, never replacing an original
// field. Responses are checked against these by the tests (test/rest-openapi.test.ts).

const str = () => z.string();
const strOrNull = () => z.string().nullable();
const numOrNull = () => z.number().nullable();

export const MODEL_STATUSES = ['QUEUED', 'TRAINING', 'READY', 'FAILED', 'CANCELLED'] as const;
export const RESULTS = ['GOOD', 'BAD'] as const;

// --- errors ---------------------------------------------------------------------------------

export const KeyValueError = z
  .object({ errors: z.array(str()).optional(), key: str().optional().meta({ description: 'Error key: the REST field (`item_ids`, `annotations.0.x_min`)' }) })
  .meta({ id: 'KeyValueError' });

export const ErrorSource = z.object({ pointer: str().optional().meta({ description: 'Endpoint errored' }) }).meta({ id: 'ErrorSource' });

export const ErrorBody = z
  .object({
    detail: str().optional().meta({ description: 'Error Details' }),
    message: z.array(KeyValueError).optional(),
    source: ErrorSource.optional(),
    title: str().optional().meta({ description: 'Error Title' }),
    status: int32().optional().meta({ description: 'Error status code' }),
    code: ext(
      z
        .enum([
          'UNAUTHENTICATED',
          'FORBIDDEN',
          'NOT_FOUND',
          'BAD_USER_INPUT',
          'UNSUPPORTED_MEDIA',
          'PAYLOAD_TOO_LARGE',
          'CONFLICT',
          'RATE_LIMITED',
          'UNAVAILABLE',
          'INTERNAL_SERVER_ERROR',
        ])
        .optional(),
      'The same code GraphQL puts in extensions.code',
    ),
    request_id: ext(str().optional(), 'Names the log lines of this request (unexpected errors)'),
  })
  .meta({ id: 'Error' });

export const BaseError = z
  .object({
    errors: ErrorBody.optional(),
    // POST /api/auth/token also answers the OAuth2 (RFC 6749 §5.2) fields.
    error: ext(str().optional(), 'OAuth2 error code (POST /api/auth/token only)'),
    error_description: ext(str().optional(), 'OAuth2 error description (POST /api/auth/token only)'),
  })
  .meta({
    id: 'BaseError',
    example: {
      errors: {
        detail: 'item_ids: must not be empty',
        message: [{ errors: ['must not be empty'], key: 'item_ids' }],
        source: { pointer: '/api/v1/models/active/predict' },
        title: 'Unprocessable Entity',
        status: 422,
        code: 'BAD_USER_INPUT',
      },
    },
  });

// --- auth -----------------------------------------------------------------------------------

export const LoginParams = z.object({ client_id: str(), client_secret: str(), grant_type: str() }).meta({
  id: 'LoginParams',
  description: 'login parameters',
  example: { grant_type: 'client_credentials', client_secret: 'client_secret', client_id: 'client_id' },
});

export const LoginResponse = z
  .object({
    access_token: str(),
    token_type: ext(z.literal('Bearer').optional(), 'Always "Bearer"'),
    expires_in: ext(int32().optional(), 'Seconds the token is valid for'),
  })
  .meta({ id: 'LoginResponse', description: 'response object of login', example: { access_token: 'access_token' } });

// --- targets --------------------------------------------------------------------------------

export const Preprocessing = z.object({ name: str(), active: z.boolean().nullable().optional(), config: strOrNull().optional() }).meta({ id: 'Preprocessing' });

export const InspectionTarget = z
  .object({
    name: str().optional(),
    target_id: int32().optional(),
    preprocessing: z.array(Preprocessing).optional(),
    is_default: ext(z.boolean().optional(), 'True for the default target (where uploads go without model_id)'),
  })
  .meta({
    id: 'InspectionTarget',
    example: { name: 'bolts', target_id: 1, preprocessing: [{ name: 'crop', active: true, config: '0,0,256,256' }], is_default: true },
  });

export const InspectionTargetListWrapper = z.object({ data: z.array(InspectionTarget).optional() }).meta({ id: 'InspectionTargetListWrapper' });
export const InspectionTargetWrapper = z.object({ data: InspectionTarget.optional() }).meta({ id: 'InspectionTargetWrapper' });

// --- algorithms -----------------------------------------------------------------------------

export const AlgorithmParameter = z
  .object({
    created_at: dateTime(),
    value: strOrNull().optional(),
    range_upper: strOrNull().optional(),
    display_name: strOrNull().optional(),
    name: str(),
    data_type: str().optional(),
    updated_at: dateTime(),
    range_lower: strOrNull().optional(),
    algorithm_id: str(),
    model_parameter: z.boolean().nullable().optional(),
    algorithm_parameter_id: int32().optional(),
  })
  .meta({ id: 'AlgorithmParameter' });

export const AlgorithmWithParameter = z
  .object({
    created_at: dateTime(),
    name: str(),
    parameters: z.array(AlgorithmParameter).optional(),
    version: strOrNull().optional(),
    attribute: str().optional(),
    algorithm_id: str(),
    type: str().optional(),
    file_name: str(),
    class_name: str(),
    updated_at: dateTime(),
    description: ext(strOrNull().optional(), 'What the algorithm does and when to use it'),
  })
  .meta({
    id: 'AlgorithmWithParameter',
    example: {
      created_at: '2020-10-19T10:35:37Z',
      name: 'Pattern Matching',
      parameters: [
        {
          created_at: '2020-10-19T10:35:37Z',
          value: '0.1',
          range_upper: null,
          display_name: 'Threshold',
          name: 'threshold',
          data_type: 'float',
          updated_at: '2020-10-19T10:35:37Z',
          range_lower: '0',
          algorithm_id: 'pattern-matching',
          model_parameter: true,
          algorithm_parameter_id: 7,
        },
      ],
      version: '1.0.0',
      attribute: 'aligned parts',
      algorithm_id: 'pattern-matching',
      type: 'golden-image',
      file_name: 'pattern-matching.ts',
      class_name: 'PatternMatching',
      updated_at: '2020-10-19T10:35:37Z',
    },
  });

export const AlgorithmWithParameterListWrapper = z
  .object({ data: z.array(AlgorithmWithParameter).optional() })
  .meta({ id: 'AlgorithmWithParameterListWrapper' });
export const AlgorithmWithParameterWrapper = z.object({ data: AlgorithmWithParameter.optional() }).meta({ id: 'AlgorithmWithParameterWrapper' });

export const OverrideParam = z
  .object({
    algorithm_parameter_id: int32().optional(),
    value: str().optional(),
    name: ext(str().optional(), 'The parameter by name, instead of algorithm_parameter_id'),
  })
  .meta({ id: 'OverrideParam' });

export const TrainRequest = z
  .object({
    name: str().optional(),
    item_ids: z.array(str()).optional(),
    override_params: z.array(OverrideParam).optional(),
    target_id: ext(int32().optional(), 'The target to train for (default: the default target)'),
  })
  .meta({
    id: 'TrainRequest',
    example: { name: 'bolts-v1', item_ids: ['0190b0c4-6f1e-7c3a-9d52-1a2b3c4d5e6f'], override_params: [{ algorithm_parameter_id: 7, value: '0.2' }] },
  });

// --- models ---------------------------------------------------------------------------------

export const HModelPrecision = z.object({ computed: numOrNull().optional(), projected: numOrNull().optional() }).meta({ id: 'HModelPrecision' });

export const HModelStats = z
  .object({
    accuracy: numOrNull().optional(),
    precision: HModelPrecision.optional(),
    recall: HModelPrecision.optional(),
    method: ext(strOrNull().optional(), 'How the figures were computed (held-out split, counts)'),
  })
  .meta({ id: 'HModelStats' });

export const PredictParameters = z
  .object({ threshold: z.number(), ignore_outer: int32(), min_detected_area: int32() })
  .meta({ id: 'PredictParameters', [`x-spectro-extension`]: true, description: 'How a trained model judges (changeable without retraining)' });

export const HModel = z
  .object({
    created_at: dateTime(),
    stats: HModelStats.optional(),
    training_time: int32OrNull().optional().meta({ description: 'Seconds, rounded' }),
    model_id: str(),
    name: str(),
    ok_img_count: int32().optional(),
    ng_img_count: int32().optional(),
    status_text: strOrNull().optional(),
    version: str(),
    image_url: strOrNull().optional(),
    precision: numOrNull().optional(),
    active: z.boolean().nullable().optional(),
    algorithm_id: str(),
    algorithm_type: str(),
    context_id: int32().meta({ description: "The model's inspection target (its target_id)" }),
    status: z.enum(MODEL_STATUSES).optional(),
    updated_at: dateTime(),
    recall: numOrNull().optional(),
    progress: ext(z.number().optional(), '0..1 while training, 1 when READY'),
    predict_parameters: ext(PredictParameters.optional(), 'How the model judges'),
  })
  .meta({
    id: 'HModel',
    example: {
      created_at: '2020-10-19T10:35:37Z',
      stats: { accuracy: 0.97, precision: { computed: 0.95, projected: 0.93 }, recall: { computed: 1, projected: 0.96 } },
      training_time: 12,
      model_id: '0190b0c4-6f1e-7c3a-9d52-1a2b3c4d5e70',
      name: 'bolts-v1',
      ok_img_count: 20,
      ng_img_count: 4,
      status_text: null,
      version: '1',
      image_url: null,
      precision: 0.95,
      active: true,
      algorithm_id: 'pattern-matching',
      algorithm_type: 'golden-image',
      context_id: 1,
      status: 'READY',
      updated_at: '2020-10-19T10:35:37Z',
      recall: 1,
    },
  });

export const HModelWrapper = z.object({ data: HModel.optional() }).meta({ id: 'HModelWrapper' });
export const HModelListWrapper = z.object({ data: z.array(HModel).optional() }).meta({ id: 'HModelListWrapper' });

// Loose: one component for the request body (export) and the answer (delete).
export const ModelIdsQuery = z.looseObject({ model_ids: z.array(str()).optional() }).meta({ id: 'ModelIdsQuery' });
export const ModelIdsQueryWrapper = z.object({ data: ModelIdsQuery.optional() }).meta({ id: 'ModelIdsQueryWrapper' });

export const ImportModels = z
  .object({
    models: binary().optional(),
    target_id: ext(textId().optional(), 'The target the models join (default: the default target)'),
  })
  .meta({ id: 'ImportModels' });

export const Predict = z.object({ item_ids: z.array(str()).optional() }).meta({ id: 'Predict' });

export const PredictItemsResponse = z
  .object({
    item_ids: z.array(str()).optional(),
    model_version: str().optional(),
    model_id: ext(str().optional(), 'The model that predicts (the concrete one when "active" was asked for)'),
    job_id: ext(str().optional(), 'The background job (GraphQL predictionJob)'),
  })
  .meta({ id: 'PredictItemsResponse' });
export const PredictItemsResponseWrapper = z.object({ data: PredictItemsResponse.optional() }).meta({ id: 'PredictItemsResponseWrapper' });

// --- items ----------------------------------------------------------------------------------

export const Annotation = z
  .object({
    created_at: dateTime(),
    annotation_id: int32().optional(),
    x_min: numOrNull().optional(),
    x_max: numOrNull().optional(),
    y_min: numOrNull().optional(),
    label: int32OrNull().optional(),
    y_max: numOrNull().optional(),
    notes: strOrNull().optional(),
    score: ext(numOrNull().optional(), "A detected box's anomaly score (null for the user's boxes)"),
  })
  .meta({ id: 'Annotation' });

export const ItemImageMeta = z
  .object({
    height: int32().optional(),
    name: str().optional(),
    file_size: int32().optional(),
    width: int32().optional(),
    url: str().optional().meta({ description: 'Signed link to the bytes; works without headers until it expires' }),
  })
  .meta({ id: 'ItemImageMeta' });

export const AssessmentItem = z
  .object({
    model_id: str().optional(),
    annotations: z.array(Annotation).optional(),
    detection_accuracy: int32OrNull().optional(),
    images: z.array(ItemImageMeta).optional(),
    result: z.enum(RESULTS).optional(),
    detected_objects: int32OrNull().optional(),
    label: str().optional(),
    score: ext(z.number().optional(), 'The raw anomaly score'),
    threshold: ext(z.number().optional(), 'The threshold the score was judged against'),
    created_at: ext(dateTime().optional(), 'When the prediction was made'),
  })
  .meta({ id: 'AssessmentItem' });

export const AssessmentItem1 = z
  .object({
    label: str().optional(),
    images: z.array(ItemImageMeta).optional(),
    result: z.enum(RESULTS).optional().meta({ description: "The user's OK/NG label: GOOD or BAD" }),
    annotations: z.array(Annotation).optional(),
  })
  .meta({ id: 'AssessmentItem1' });

export const ITEM_STATUSES = ['UPLOADED', 'PREDICTED'] as const;

export const Item = z
  .object({
    item_id: str().optional(),
    assessments: z.array(AssessmentItem).optional(),
    name: str().optional(),
    user_assessment: AssessmentItem1.optional(),
    active: z.boolean().optional(),
    is_training_data: z.boolean().optional(),
    images: z.array(ItemImageMeta).optional(),
    status: z.enum(ITEM_STATUSES).optional().meta({ description: 'PREDICTED once a model has judged it, else UPLOADED' }),
    good: ext(z.boolean().nullable().optional(), "The user's OK (true) / NG (false) label; null when unlabelled"),
    target_id: ext(int32().optional(), "The item's inspection target"),
    created_at: ext(dateTime().optional(), 'When it was uploaded'),
  })
  .meta({ id: 'Item' });

export const GetItemsResponse = z
  .object({
    items: z.array(Item).optional(),
    current_page: int32().optional(),
    end_page: int32().optional(),
    count_per_page: int32().optional(),
    total_count: ext(int32().optional(), 'Items matching the filter, all pages together'),
  })
  .meta({ id: 'GetItemsResponse' });
export const GetItemsResponseWrapper = z.object({ data: GetItemsResponse.optional() }).meta({ id: 'GetItemsResponseWrapper' });

export const AddItemRequest = z
  .object({
    files: z.array(binary()).optional(),
    training: textBool('true: training items, false: prediction items'),
    good: textBool('Tags every file as Good (true) or Bad (false)').optional(),
    model_id: str().trim().min(1).optional().meta({ description: 'The items join the target of this model ("active" allowed)' }),
    target_id: ext(textId().optional(), 'The target the items join (default: the target of model_id, else the default target)'),
  })
  .meta({ id: 'AddItemRequest' });

export const AddItemResponse = z.object({ item_ids: z.array(str()).optional() }).meta({ id: 'AddItemResponse' });
export const AddItemResponseWrapper = z.object({ data: AddItemResponse.optional() }).meta({ id: 'AddItemResponseWrapper' });
export const ItemWrapper = z.object({ data: Item.optional() }).meta({ id: 'ItemWrapper' });

const coordinate = () => int32OrNull().optional().meta({ description: 'Pixels of the original picture' });

export const RequestAnnotation = z
  .object({
    x_max: coordinate(),
    x_min: coordinate(),
    y_max: coordinate(),
    y_min: coordinate(),
    label: int32OrNull().optional(),
    notes: str().max(2000).optional(),
  })
  .meta({ id: 'RequestAnnotation' });

export const AnnotateItemRequest = z
  .object({
    annotations: z.array(RequestAnnotation).max(1000).optional().meta({ description: "Replaces the user's boxes; [] clears them, absent leaves them" }),
  })
  .meta({ id: 'AnnotateItemRequest', example: { annotations: [{ x_max: 40, x_min: 10, y_max: 52, y_min: 30, label: 1, notes: 'scratch' }] } });

export const ItemIdsResponse = z
  .object({ data: z.object({ item_ids: z.array(str()) }).optional() })
  .meta({ id: 'ItemIdsResponseWrapper', [`x-spectro-extension`]: true });

// --- utils ----------------------------------------------------------------------------------

export const License = z
  .object({
    license_data: z
      .union([binary(), str()])
      .optional()
      .meta({ override: { type: 'string', format: 'binary' } }),
  })
  .meta({ id: 'License' });
export const LicenseResponse = z
  .object({
    license_expiry: str().optional().meta({ description: 'ISO 8601; absent for a perpetual license' }),
    valid: ext(z.boolean().optional(), 'Signed by the vendor key, for this installation, and not expired'),
  })
  .meta({ id: 'LicenseResponse' });
export const LicenseResponseWrapper = z.object({ data: LicenseResponse.optional() }).meta({ id: 'LicenseResponseWrapper' });
export const LicenseHashResponse = z.object({ hash_id: str().optional() }).meta({ id: 'LicenseHashResponse' });
export const LicenseHashResponseWrapper = z.object({ data: LicenseHashResponse.optional() }).meta({ id: 'LicenseHashResponseWrapper' });

export type RestModel = z.input<typeof HModel>;
export type RestItem = z.input<typeof Item>;
export type RestTarget = z.input<typeof InspectionTarget>;
export type RestAlgorithm = z.input<typeof AlgorithmWithParameter>;
export type RestAnnotation = z.input<typeof Annotation>;
export type RestImage = z.input<typeof ItemImageMeta>;
