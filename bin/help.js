// oclif's help class (package.json oclif.helpClass). A plain .js beside run.js, because oclif maps
// a helpClass under dist/ to its TypeScript source when NODE_ENV is test or development, and loads
// that without an ESM TypeScript loader.
export { default } from '../dist/commands/_base/help.js';
