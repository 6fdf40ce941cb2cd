#!/usr/bin/env node
// The `ccmsim` bin: only hands the process over to main().
import { main } from './ccmsim-main.js';

process.exitCode = await main(process.argv.slice(2));
