// Piscina worker entry for bench/train-forward.ts: the development scripts are TypeScript run by
// tsx and are not compiled, and a worker thread does not inherit tsx's loader, so register it here.
import { register } from 'tsx/esm/api';

register();
const script = await import('./train-forward.ts');
export default script.default;
