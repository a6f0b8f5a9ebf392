#!/usr/bin/env node
// Entry point: runs the compiled CLI (npm run build writes dist/).
import { run } from '../dist/cli/main.js';

await run();
