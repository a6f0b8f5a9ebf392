// The manifest module's public face: load fleet.yaml into a resolved Inventory.
export { loadManifest, parseManifest, resolveManifestPath, DEFAULT_MANIFEST, MAX_MANIFEST_BYTES } from './load.js';
export type { LoadOptions, ParseOptions, ManifestEnv } from './load.js';
export { parseEndpoint } from './endpoint.js';
export type { EndpointParse, ParsedEndpoint } from './endpoint.js';
export { MODES } from './inventory.js';
export { parseWaveSize } from './wave-size.js';
export type {
  BootstrapOptions,
  DiskEncryptionKey,
  Endpoint,
  HealthCheck,
  HostSpec,
  Inventory,
  KeyPolicy,
  KeyPush,
  LocalEndpoint,
  Mode,
  RollbackPolicy,
  RolloutFailurePolicy,
  RolloutSpec,
  WaveSize,
  SshEndpoint,
  ToolCommands,
} from './inventory.js';
export type { FleetManifest } from './schema-types.js';
