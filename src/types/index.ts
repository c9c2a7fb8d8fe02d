// Shared plain types used across modules.
export * from './clock.js';
export * from './certificate-status.js';
