#!/usr/bin/env node
// The `ccmsetup-sim` bin: only hands the process over to main().
import { main } from './ccmsetup-sim-main.js';

process.exitCode = await main(process.argv.slice(2));
