// Fleet mode (issue 11): one fetch per certificate across hosts sharing a Redis; see docs/fleet.md.
export { FleetCoordinator, type FleetRequest, type FleetResult, type FleetTiming, type StapleSource } from './fleet-coordinator.js';
export { REJECT_REASONS, type FleetHealth, type RejectReason } from './fleet-health.js';
export { DEFAULT_FLEET_PREFIX, isValidFleetPrefix, MAX_FLEET_PREFIX_LENGTH } from './fleet-keys.js';
export { createFleetCoordinator, type FleetSettings } from './create-fleet.js';
