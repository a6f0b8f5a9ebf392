// The exit codes for --help: one source, report/'s table.
import { EXIT, formatExitCodes } from '../report/exit-codes.js';

export { EXIT };

export const EXIT_CODES_HELP = ['Exit codes:', ...formatExitCodes().map((line) => `  ${line}`)].join('\n');
