// Shared plain types used across modules.
export * from './clock.js';
