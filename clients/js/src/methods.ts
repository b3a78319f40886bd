/**
 * The hub's method names, letter for letter as the server knows them (`SensorHubMethods` in SensorHub.Contracts).
 * `tests/SensorHub.Tests/Contracts/JsClientContractTests.cs` reads this file and compares it with the .NET constants
 * both ways, so a renamed or added method fails a test before it fails a user. Keep one `Name: "Name",` per line.
 */
export const SensorHubMethods = {
  Subscribe: "Subscribe",
  SubscribeBatches: "SubscribeBatches",
  SubscribeMany: "SubscribeMany",
  ListSensors: "ListSensors",
  Publish: "Publish",
  PublishBatches: "PublishBatches",
  BeginUpload: "BeginUpload",
  Upload: "Upload",
  GetUploadStatus: "GetUploadStatus",
  WatchUpload: "WatchUpload",
  Download: "Download",
  ListUploads: "ListUploads",
  CreateSession: "CreateSession",
  JoinSession: "JoinSession",
  Annotate: "Annotate",
  SetSessionSensors: "SetSessionSensors",
  EndSession: "EndSession",
  ListSessions: "ListSessions",
} as const;

/** One of the hub's method names. */
export type SensorHubMethod = (typeof SensorHubMethods)[keyof typeof SensorHubMethods];

/** The server's fixed paths (`SensorHubRoutes`), relative to its base address. */
export const SensorHubRoutes = {
  Hub: "/hubs/sensors",
  Stats: "/api/stats",
  DevToken: "/api/dev/token",
} as const;
