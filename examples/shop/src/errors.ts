/** The shop's API errors: an HTTP status, a stable code and a message safe to show the client. */

/** An error the API answers with its own status and code (anything else is a 500). */
export class ShopError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: Record<string, unknown>;

  constructor(status: number, code: string, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'ShopError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/** 404 for a missing thing. */
export const notFound = (what: string, id: string | number) =>
  new ShopError(404, 'not_found', `${what} ${id} does not exist`, { [what]: id });

/** 400 for a bad request field. */
export const badRequest = (message: string, details: Record<string, unknown> = {}) =>
  new ShopError(400, 'bad_request', message, details);
