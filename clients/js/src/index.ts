// @sensorhub/client: SensorHub's client for browsers and Node. See README.md for the guide.
export { SensorHubClient } from "./client.js";
export type { SensorHubClientEvents } from "./client.js";
export { SensorHubStream } from "./stream.js";
export type { StreamCallbacks } from "./stream.js";
export type {
  DownloadOptions, JoinSessionOptions, ResumeInfo, SensorHubClientOptions, SubscribeManyOptions, SubscribeOptions, UploadOptions, UploadProgress, WatchUploadOptions,
} from "./options.js";
export type { ConnectionState, StateChange } from "./internal/connection.js";
export { SensorHubError, UploadVerificationError, SensorHubErrorCodes, codeOf, isKnownCode, retryAfterOf } from "./errors.js";
export type { SensorHubErrorCode, SensorHubErrorKind } from "./errors.js";
export { SensorHubMethods, SensorHubRoutes } from "./methods.js";
export type { SensorHubMethod } from "./methods.js";
export type { GapCause, SequenceGap } from "./gaps.js";
export { parsePattern, MAX_SENSOR_ID_LENGTH } from "./pattern.js";
export type { SensorPattern } from "./pattern.js";
export { DEFAULT_CHUNK_SIZE, DEFAULT_CHUNKS_AHEAD, UPLOAD_RESUME_PATIENCE_MS } from "./uploads.js";
export type * from "./types.js";
