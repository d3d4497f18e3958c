// `node --import ./register-swc.mjs app.ts`: see swc-loader.mjs.
import { register } from 'node:module';

register('./swc-loader.mjs', import.meta.url);
