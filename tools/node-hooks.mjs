// Node module hooks so `node --import tsx --import ./tools/node-hooks.mjs` can run engine code that imports
// WGSL the Vite way (`import src from '../../shaders/x.wgsl?raw'`). Vite/Vitest handle `?raw` themselves.
import { register } from 'node:module';

register(new URL('./node-hooks-impl.mjs', import.meta.url));
