/** The error for a command line that is wrong: `dw` exits with 2 for it. */

/** A command-line failure that is the user's to fix (exit 2). */
export class UsageError extends Error {}
