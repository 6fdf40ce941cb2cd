#!/usr/bin/env node
// The `bulkregtoken-sim` bin: only hands the process over to main().
import { main } from './bulkregtoken-sim-main.js';

process.exitCode = await main(process.argv.slice(2));
