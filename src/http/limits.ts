/**
 * The largest request bodies prodmon reads (bytes). Bodies are read only after the request is
 * authenticated; a larger one is refused with 413 before it is read further.
 */

/** Every route without a limit of its own: the JSON API's writes (resolve, silence). */
export const JSON_BODY_LIMIT = 64 * 1024;
/** The dashboard's form posts (resolve, silence, end a silence, sign out). */
export const FORM_BODY_LIMIT = 64 * 1024;
/** The sign-in form (name, password or token, return path, form token). */
export const SIGN_IN_BODY_LIMIT = 16 * 1024;
