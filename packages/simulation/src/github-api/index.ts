/**
 * The GitHub Packages REST API of the simulation.
 */

export { createGithubApiHandlers } from './handlers.js';
