export class HttpClient {
  baseUrl = "/";
  securityData = null;
  securityWorker;
  abortControllers = new Map();
  customFetch = (...fetchParams) => fetch(...fetchParams);
  baseApiParams = {
    credentials: "same-origin",
    headers: {},
    redirect: "follow",
    referrerPolicy: "no-referrer",
  };
  constructor(apiConfig = {}) {
    Object.assign(this, apiConfig);
  }
  setSecurityData = (data) => {
    this.securityData = data;
  };
  encodeQueryParam(key, value) {
    const encodedKey = encodeURIComponent(key);
    return `${encodedKey}=${encodeURIComponent(typeof value === "number" ? value : `${value}`)}`;
  }
  addQueryParam(query, key) {
    return this.encodeQueryParam(key, query[key]);
  }
  addArrayQueryParam(query, key) {
    const value = query[key];
    return value.map((v) => this.encodeQueryParam(key, v)).join("&");
  }
  toQueryString(rawQuery) {
    const query = rawQuery || {};
    const keys = Object.keys(query).filter(
      (key) => "undefined" !== typeof query[key],
    );
    return keys
      .map((key) =>
        Array.isArray(query[key])
          ? this.addArrayQueryParam(query, key)
          : this.addQueryParam(query, key),
      )
      .join("&");
  }
  addQueryParams(rawQuery) {
    const queryString = this.toQueryString(rawQuery);
    return queryString ? `?${queryString}` : "";
  }
  contentFormatters = {
    ["application/json"]: (input) =>
      input !== null && (typeof input === "object" || typeof input === "string")
        ? JSON.stringify(input)
        : input,
    ["application/vnd.api+json"]: (input) =>
      input !== null && (typeof input === "object" || typeof input === "string")
        ? JSON.stringify(input)
        : input,
    ["text/plain"]: (input) =>
      input !== null && typeof input !== "string"
        ? JSON.stringify(input)
        : input,
    ["multipart/form-data"]: (input) => {
      if (input instanceof FormData) {
        return input;
      }
      // Spectro: a list (several files under one name) becomes one part per element, the way
      // OpenAPI's multipart encoding sends arrays; absent fields are left out.
      const part = (value) =>
        value instanceof Blob
          ? value
          : typeof value === "object" && value !== null
            ? JSON.stringify(value)
            : `${value}`;
      return Object.keys(input || {}).reduce((formData, key) => {
        const property = input[key];
        if (property === undefined) return formData;
        for (const value of Array.isArray(property) ? property : [property])
          formData.append(key, part(value));
        return formData;
      }, new FormData());
    },
    ["application/x-www-form-urlencoded"]: (input) => this.toQueryString(input),
  };
  mergeRequestParams(params1, params2) {
    return {
      ...this.baseApiParams,
      ...params1,
      ...(params2 || {}),
      headers: {
        ...(this.baseApiParams.headers || {}),
        ...(params1.headers || {}),
        ...((params2 && params2.headers) || {}),
      },
    };
  }
  createAbortSignal = (cancelToken) => {
    if (this.abortControllers.has(cancelToken)) {
      const abortController = this.abortControllers.get(cancelToken);
      if (abortController) {
        return abortController.signal;
      }
      return void 0;
    }
    const abortController = new AbortController();
    this.abortControllers.set(cancelToken, abortController);
    return abortController.signal;
  };
  abortRequest = (cancelToken) => {
    const abortController = this.abortControllers.get(cancelToken);
    if (abortController) {
      abortController.abort();
      this.abortControllers.delete(cancelToken);
    }
  };
  request = async ({
    body,
    secure,
    path,
    type,
    query,
    format,
    baseUrl,
    cancelToken,
    ...params
  }) => {
    const secureParams =
      ((typeof secure === "boolean" ? secure : this.baseApiParams.secure) &&
        this.securityWorker &&
        (await this.securityWorker(this.securityData))) ||
      {};
    const requestParams = this.mergeRequestParams(params, secureParams);
    const queryString = query && this.toQueryString(query);
    const payloadFormatter = this.contentFormatters[type || "application/json"];
    const responseFormat = format || requestParams.format;
    return this.customFetch(
      `${baseUrl || this.baseUrl || ""}${path}${queryString ? `?${queryString}` : ""}`,
      {
        ...requestParams,
        headers: {
          ...(requestParams.headers || {}),
          ...(type && type !== "multipart/form-data"
            ? { "Content-Type": type }
            : {}),
        },
        signal:
          (cancelToken
            ? this.createAbortSignal(cancelToken)
            : requestParams.signal) || null,
        body:
          typeof body === "undefined" || body === null
            ? null
            : payloadFormatter(body),
      },
    ).then(async (response) => {
      const r = response;
      r.data = null;
      r.error = null;
      const responseToParse = responseFormat ? response.clone() : response;
      const data = !responseFormat
        ? r
        : await responseToParse[responseFormat]()
            .then((data) => {
              if (r.ok) {
                r.data = data;
              } else {
                r.error = data;
              }
              return r;
            })
            .catch((e) => {
              r.error = e;
              return r;
            });
      if (cancelToken) {
        this.abortControllers.delete(cancelToken);
      }
      if (!response.ok) throw data;
      return data;
    });
  };
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
export class Api extends HttpClient {
  spectro = {
    /**
     * @description Returns the access token (OAuth2 client credentials). Also accepts the fields form-encoded, and client_id/client_secret as HTTP Basic.
     *
     * @tags Spectro
     * @name Login
     * @summary Authorization
     * @request POST:/api/auth/token
     */
    login: (data, params = {}) =>
      this.request({
        path: `/api/auth/token`,
        method: "POST",
        body: data,
        type: "application/json",
        format: "json",
        ...params,
      }),
    /**
     * @description Extension: the OpenAPI 3.1 document of this API (no token needed).
     *
     * @tags Spectro
     * @name GetOpenApiDocument
     * @summary This document
     * @request GET:/api/v1/openapi.json
     */
    getOpenApiDocument: (params = {}) =>
      this.request({
        path: `/api/v1/openapi.json`,
        method: "GET",
        format: "json",
        ...params,
      }),
  };
  targets = {
    /**
     * @description Get all inspection targets created by user
     *
     * @tags targets
     * @name GetInspectionTargets
     * @summary Get List of Inpection Targets
     * @request GET:/api/v1/targets/
     * @secure
     */
    getInspectionTargets: (params = {}) =>
      this.request({
        path: `/api/v1/targets/`,
        method: "GET",
        secure: true,
        format: "json",
        ...params,
      }),
    /**
     * @description Get a single inspection target using the inspection target ID.
     *
     * @tags targets
     * @name GetInspectionTargetById
     * @summary Get Inspection Target by ID
     * @request GET:/api/v1/targets/{target_id}
     * @secure
     */
    getInspectionTargetById: (targetId, params = {}) =>
      this.request({
        path: `/api/v1/targets/${targetId}`,
        method: "GET",
        secure: true,
        format: "json",
        ...params,
      }),
    /**
     * @description Set the default inspection target using the inspection target ID.
     *
     * @tags targets
     * @name SetInspectionTargetById
     * @summary Set Default Inspection Target by ID
     * @request POST:/api/v1/targets/{target_id}
     * @secure
     */
    setInspectionTargetById: (targetId, params = {}) =>
      this.request({
        path: `/api/v1/targets/${targetId}`,
        method: "POST",
        secure: true,
        format: "json",
        ...params,
      }),
    /**
     * @description A CSV file (RFC 4180, UTF-8, CRLF) with one row per assessment of the models, newest first per model. Columns: model_id, model_name, model_version, assessment_id, item_id, item_name, result (GOOD or BAD, as in the JSON answers), score, threshold, detected_objects, detection_accuracy, label, boxes (`x_min y_min x_max y_max score` groups separated by `;`, pixels of the original picture), created_at. `model_ids` may be "active".
     *
     * @tags targets
     * @name GetModelResults
     * @summary Results of models as CSV
     * @request POST:/api/v1/targets/model/results
     * @secure
     */
    getModelResults: (query, params = {}) =>
      this.request({
        path: `/api/v1/targets/model/results`,
        method: "POST",
        query: query,
        secure: true,
        ...params,
      }),
    /**
     * @description The include/exclude polygons of the target, which its models judge with unless they have their own. Extension: Regions of interest are not in the original API; GraphQL setRegions / Target.regions / Model.regions do the same.
     *
     * @tags targets
     * @name GetTargetRegions
     * @summary Regions of interest of a target
     * @request GET:/api/v1/targets/{target_id}/regions
     * @secure
     */
    getTargetRegions: (targetId, params = {}) =>
      this.request({
        path: `/api/v1/targets/${targetId}/regions`,
        method: "GET",
        secure: true,
        format: "json",
        ...params,
      }),
    /**
     * @description Replaces the target's regions (422 naming the region that is wrong). Applies to predictions from now on. Extension: Regions of interest are not in the original API; GraphQL setRegions / Target.regions / Model.regions do the same.
     *
     * @tags targets
     * @name SetTargetRegions
     * @summary Set the regions of interest of a target
     * @request POST:/api/v1/targets/{target_id}/regions
     * @secure
     */
    setTargetRegions: (targetId, data, params = {}) =>
      this.request({
        path: `/api/v1/targets/${targetId}/regions`,
        method: "POST",
        body: data,
        secure: true,
        type: "application/json",
        format: "json",
        ...params,
      }),
  };
  algorithms = {
    /**
     * @description Returns list of available algorithms including parameters that can be used to create a model
     *
     * @tags algorithms
     * @name GetAlgorithms
     * @summary Get List of Algorithms
     * @request GET:/api/v1/algorithms/
     * @secure
     */
    getAlgorithms: (params = {}) =>
      this.request({
        path: `/api/v1/algorithms/`,
        method: "GET",
        secure: true,
        format: "json",
        ...params,
      }),
    /**
     * @description Get a single algorithm by ID
     *
     * @tags algorithms
     * @name GetAlgorithmById
     * @summary Get Algorithm by ID
     * @request GET:/api/v1/algorithms/{algorithm_id}
     * @secure
     */
    getAlgorithmById: (algorithmId, params = {}) =>
      this.request({
        path: `/api/v1/algorithms/${algorithmId}`,
        method: "GET",
        secure: true,
        format: "json",
        ...params,
      }),
    /**
     * @description Train a model. Answers at once with the model QUEUED (or TRAINING); GET /api/v1/models/{model_id} shows its progress until READY. Without item_ids, every training item of the target is used (NG-tagged ones pick the threshold and the stats).
     *
     * @tags algorithms
     * @name Train
     * @summary Train
     * @request POST:/api/v1/algorithms/{algorithm_id}/train
     * @secure
     */
    train: (algorithmId, data, params = {}) =>
      this.request({
        path: `/api/v1/algorithms/${algorithmId}/train`,
        method: "POST",
        body: data,
        secure: true,
        type: "application/json",
        format: "json",
        ...params,
      }),
  };
  models = {
    /**
     * @description Get all models of the default inspection target (the one training uses), or of `target_id` (newest first)
     *
     * @tags models
     * @name GetModels
     * @summary Get List of Models
     * @request GET:/api/v1/models/
     * @secure
     */
    getModels: (query, params = {}) =>
      this.request({
        path: `/api/v1/models/`,
        method: "GET",
        query: query,
        secure: true,
        format: "json",
        ...params,
      }),
    /**
     * @description Delete models by id (list), with their assessments; a model in training is stopped first
     *
     * @tags models
     * @name DeleteModels
     * @summary Delete Models
     * @request DELETE:/api/v1/models/
     * @secure
     */
    deleteModels: (query, params = {}) =>
      this.request({
        path: `/api/v1/models/`,
        method: "DELETE",
        query: query,
        secure: true,
        format: "json",
        ...params,
      }),
    /**
     * @description Get a single model by ID ("active": the default target's active model)
     *
     * @tags models
     * @name GetModelById
     * @summary Get Model by ID
     * @request GET:/api/v1/models/{model_id}
     * @secure
     */
    getModelById: (modelId, params = {}) =>
      this.request({
        path: `/api/v1/models/${modelId}`,
        method: "GET",
        secure: true,
        format: "json",
        ...params,
      }),
    /**
     * @description Makes a READY model its target's active one: the model that "active" names (409 for a model that is not READY). Extension: The original has no way to choose the active model over REST; GraphQL activateModel does the same.
     *
     * @tags models
     * @name ActivateModel
     * @summary Activate a model
     * @request POST:/api/v1/models/{model_id}/activate
     * @secure
     */
    activateModel: (modelId, params = {}) =>
      this.request({
        path: `/api/v1/models/${modelId}/activate`,
        method: "POST",
        secure: true,
        format: "json",
        ...params,
      }),
    /**
     * @description Export models given the Id: a zip with one folder per model holding manifest.json and model.onnx (docs/model-archive.md), importable by POST /api/v1/models/import here or on another server.
     *
     * @tags models
     * @name ExportModelsWithId
     * @summary Export models
     * @request POST:/api/v1/models/export
     * @secure
     */
    exportModelsWithId: (data, params = {}) =>
      this.request({
        path: `/api/v1/models/export`,
        method: "POST",
        body: data,
        secure: true,
        type: "application/json",
        ...params,
      }),
    /**
     * @description Import models from the zip file (all or nothing); 422 says what is wrong with the archive.
     *
     * @tags models
     * @name ImportModels
     * @summary Import models
     * @request POST:/api/v1/models/import
     * @secure
     */
    importModels: (data, params = {}) =>
      this.request({
        path: `/api/v1/models/import`,
        method: "POST",
        body: data,
        secure: true,
        type: "multipart/form-data",
        format: "json",
        ...params,
      }),
    /**
     * @description Predict items in the background. Each result is stored on its item (GET /api/v1/items/{item_id}) as soon as it is made, and pushed to webhooks and MQTT (docs/integration.md).
     *
     * @tags models
     * @name PredictItems
     * @summary Predict Items
     * @request POST:/api/v1/models/{model_id}/predict
     * @secure
     */
    predictItems: (modelId, data, params = {}) =>
      this.request({
        path: `/api/v1/models/${modelId}/predict`,
        method: "POST",
        body: data,
        secure: true,
        type: "application/json",
        format: "json",
        ...params,
      }),
    /**
     * @description The model's own regions, else its target's (`inherited`). Extension: Regions of interest are not in the original API; GraphQL setRegions / Target.regions / Model.regions do the same.
     *
     * @tags models
     * @name GetModelRegions
     * @summary Regions of interest a model judges with
     * @request GET:/api/v1/models/{model_id}/regions
     * @secure
     */
    getModelRegions: (modelId, params = {}) =>
      this.request({
        path: `/api/v1/models/${modelId}/regions`,
        method: "GET",
        secure: true,
        format: "json",
        ...params,
      }),
    /**
     * @description Replaces the model's own regions, which override its target's; an empty list judges the whole picture. Extension: Regions of interest are not in the original API; GraphQL setRegions / Target.regions / Model.regions do the same.
     *
     * @tags models
     * @name SetModelRegions
     * @summary Set a model's own regions of interest
     * @request POST:/api/v1/models/{model_id}/regions
     * @secure
     */
    setModelRegions: (modelId, data, params = {}) =>
      this.request({
        path: `/api/v1/models/${modelId}/regions`,
        method: "POST",
        body: data,
        secure: true,
        type: "application/json",
        format: "json",
        ...params,
      }),
    /**
     * @description The model judges with its target's regions again. Extension: Regions of interest are not in the original API; GraphQL setRegions / Target.regions / Model.regions do the same.
     *
     * @tags models
     * @name ResetModelRegions
     * @summary Drop a model's own regions of interest
     * @request DELETE:/api/v1/models/{model_id}/regions
     * @secure
     */
    resetModelRegions: (modelId, params = {}) =>
      this.request({
        path: `/api/v1/models/${modelId}/regions`,
        method: "DELETE",
        secure: true,
        format: "json",
        ...params,
      }),
  };
  items = {
    /**
     * @description Returns items based on given `item_type` (prediction, training), newest first, of the default inspection target (the one training uses), or of `target_id`; with `model_id`, the items that model judged or was trained on, and their assessments to that model. `page` starts at 1 (a page past the end has no items), `count` is 1..100 (default 20).
     *
     * @tags items
     * @name GetItemsByType
     * @summary Get List of Items
     * @request GET:/api/v1/items/
     * @secure
     */
    getItemsByType: (query, params = {}) =>
      this.request({
        path: `/api/v1/items/`,
        method: "GET",
        query: query,
        secure: true,
        format: "json",
        ...params,
      }),
    /**
     * @description Add prediction or training item/s, one per file (JPEG, PNG, WebP, TIFF, GIF; each decoded before anything is stored; one bad file fails the whole request). This endpoint also gives you an option to tag an item as Good or Bad. Items go to target_id, else to the target of model_id, else to the default target (created as "default" when there is none).
     *
     * @tags items
     * @name AddItem
     * @summary Add Item
     * @request POST:/api/v1/items/
     * @secure
     */
    addItem: (data, params = {}) =>
      this.request({
        path: `/api/v1/items/`,
        method: "POST",
        body: data,
        secure: true,
        type: "multipart/form-data",
        format: "json",
        ...params,
      }),
    /**
     * @description Deletes items with their pictures and assessments. Extension: The original cannot delete items; the same as GraphQL deleteItems.
     *
     * @tags items
     * @name DeleteItems
     * @summary Delete Items
     * @request DELETE:/api/v1/items/
     * @secure
     */
    deleteItems: (query, params = {}) =>
      this.request({
        path: `/api/v1/items/`,
        method: "DELETE",
        query: query,
        secure: true,
        format: "json",
        ...params,
      }),
    /**
     * @description Get specific item and annotations. show_assessments and show_annotations default to true.
     *
     * @tags items
     * @name GetItemById
     * @summary Get Item by Id
     * @request GET:/api/v1/items/{item_id}
     * @secure
     */
    getItemById: (itemId, query, params = {}) =>
      this.request({
        path: `/api/v1/items/${itemId}`,
        method: "GET",
        query: query,
        secure: true,
        format: "json",
        ...params,
      }),
    /**
     * @description Replaces the user's boxes on the item (pixels of the original picture).
     *
     * @tags items
     * @name Annotate
     * @summary Annotate an item
     * @request PATCH:/api/v1/items/{item_id}
     * @secure
     */
    annotate: (itemId, data, params = {}) =>
      this.request({
        path: `/api/v1/items/${itemId}`,
        method: "PATCH",
        body: data,
        secure: true,
        type: "application/json",
        ...params,
      }),
  };
  utils = {
    /**
     * @description Installs a license file (docs/license.md), as a multipart file part or a JSON string; 422 says why one is refused.
     *
     * @tags utils
     * @name SetLicense
     * @summary Set the license
     * @request POST:/api/v1/utils/
     * @secure
     */
    setLicense: (data, params = {}) =>
      this.request({
        path: `/api/v1/utils/`,
        method: "POST",
        body: data,
        secure: true,
        type: "application/json",
        format: "json",
        ...params,
      }),
    /**
     * @description A zip holding diagnostics.json: version, process, non-secret configuration, pub/sub state, counts and upstream health. The log itself goes to stdout as JSON lines, where the deployment collects it.
     *
     * @tags utils
     * @name GetLogs
     * @summary Diagnostics as a zip
     * @request POST:/api/v1/utils/debug
     * @secure
     */
    getLogs: (params = {}) =>
      this.request({
        path: `/api/v1/utils/debug`,
        method: "POST",
        secure: true,
        ...params,
      }),
    /**
     * @description Identifies this installation; a license is issued for it.
     *
     * @tags utils
     * @name GetHashId
     * @summary Installation hash
     * @request POST:/api/v1/utils/node_hash
     * @secure
     */
    getHashId: (params = {}) =>
      this.request({
        path: `/api/v1/utils/node_hash`,
        method: "POST",
        secure: true,
        format: "json",
        ...params,
      }),
  };
}
