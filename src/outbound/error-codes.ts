// THE Cloud API error code table (SPEC §5): what each Graph / WhatsApp error code means for a send,
// and classify(code, httpStatus) → retryable | permanent | auth. Every other module asks here.
//
// Kinds:
// - retryable: the same request may succeed later (throttling, Meta-side outages); retry with backoff.
// - permanent: this message will never go out as it is (bad parameter, template, recipient); fail it.
// - auth: the whole channel is blocked until an operator acts (token, permissions, account lock or
//   registration); stop sending on the channel, mark the runtime degraded, keep messages queued.
//   Channel-wide blocks that are not strictly credentials (368, 131031, 131042, 133010, ...) go here
//   too: failing every queued message one by one would throw away work that succeeds once the
//   operator has fixed the account.

export type ErrorKind = 'retryable' | 'permanent' | 'auth';

export interface ErrorCodeEntry {
  code: number;
  kind: ErrorKind;
  /** Meta's title for the code (titles are deprecated as an API field; we keep them for people). */
  title: string;
  /** The HTTP status Meta documents for the synchronous Graph response. */
  httpStatus: number;
  /** 131047: the 24 h customer service window is closed; only a template can go out now. */
  windowClosed?: true;
  /** Where the entry comes from. */
  source: string;
}

/** Meta, WhatsApp Business Platform "Error codes" (Cloud API). */
const META = 'https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes';
/** Meta, Graph API "Handling errors" (the general Graph codes the Cloud API inherits). */
const GRAPH = 'https://developers.facebook.com/docs/graph-api/guides/error-handling';

function entry(
  code: number,
  kind: ErrorKind,
  title: string,
  httpStatus: number,
  source: string,
  extra: { windowClosed?: true } = {},
): ErrorCodeEntry {
  return { code, kind, title, httpStatus, source, ...extra };
}

export const ERROR_CODES: readonly ErrorCodeEntry[] = [
  // Authorization errors.
  entry(0, 'auth', 'AuthException', 401, META), // META: token expired, invalidated or blocked by the user
  entry(3, 'auth', 'API Method', 500, META), // META: capability or permissions issue (despite the 500)
  entry(10, 'auth', 'Permission Denied', 403, META), // META: permission not granted or removed
  entry(190, 'auth', 'Access token has expired', 401, META), // META + GRAPH: get a new access token
  // 200-299 "API Permission" is a range; see classify() below. 200 is listed for the fake Graph API.
  entry(200, 'auth', 'API Permission', 403, META),

  // Throttling errors: all "try again later".
  entry(4, 'retryable', 'API Too Many Calls', 400, META), // META: app-level rate limit
  entry(17, 'retryable', 'User request limit reached', 400, GRAPH), // GRAPH: user-level throttling
  entry(341, 'retryable', 'Application limit reached', 400, GRAPH), // GRAPH: app-level throttling
  entry(80007, 'retryable', 'Rate limit issues', 400, META), // META: WABA rate limit
  entry(130429, 'retryable', 'Rate limit hit', 400, META), // META: phone number throughput (80 mps default)
  // META groups it with throttling: too many recent messages blocked or flagged as spam. Backoff, then dead.
  entry(131048, 'retryable', 'Spam rate limit hit', 400, META),
  entry(131056, 'retryable', '(Business Account, Consumer Account) pair rate limit hit', 400, META),

  // Integrity errors.
  entry(368, 'auth', 'Temporarily blocked for policies violations', 403, META), // channel-wide block
  entry(
    130497,
    'permanent',
    'Business account is restricted from messaging users in this country',
    403,
    META,
  ),
  entry(131031, 'auth', 'Account has been locked', 403, META), // SPEC §5 lists it with auth

  // Other errors.
  entry(1, 'retryable', 'API Unknown', 400, META), // META: "invalid request or possible server error"
  entry(2, 'retryable', 'API Service', 503, META), // META: temporary downtime or overload
  entry(33, 'auth', 'Parameter value is not valid', 400, META), // META: the business phone number was deleted
  entry(100, 'permanent', 'Invalid parameter', 400, META),
  entry(130472, 'permanent', "User's number is part of an experiment", 400, META),
  entry(131000, 'retryable', 'Something went wrong', 500, META), // SPEC §5: generic → retry
  entry(131005, 'auth', 'Access denied', 403, META), // META: permission not granted or removed
  entry(131008, 'permanent', 'Required parameter is missing', 400, META),
  entry(131009, 'permanent', 'Parameter value is not valid', 400, META),
  entry(131016, 'retryable', 'Service unavailable', 500, META),
  entry(131021, 'permanent', 'Recipient cannot be sender', 400, META),
  entry(131026, 'permanent', 'Message undeliverable', 400, META),
  entry(131030, 'permanent', 'Recipient phone number not in allowed list', 400, META), // test numbers
  entry(131037, 'auth', 'WhatsApp provided number needs display name approval', 400, META), // channel-wide
  entry(131042, 'auth', 'Business eligibility payment issue', 400, META), // channel-wide until paid
  entry(131045, 'auth', 'Incorrect certificate', 400, META), // channel-wide: registration problem
  entry(131047, 'permanent', 'Re-engagement message', 400, META, { windowClosed: true }), // > 24 h
  entry(131049, 'permanent', 'Meta chose not to deliver', 400, META), // per-user marketing limit
  entry(131050, 'permanent', 'User stopped marketing messages', 400, META),
  entry(131051, 'permanent', 'Unsupported message type', 400, META),
  entry(131052, 'permanent', 'Media download error', 400, META),
  entry(131053, 'permanent', 'Media upload error', 400, META),
  entry(131057, 'retryable', 'Account in maintenance mode', 500, META), // META: e.g. throughput upgrade

  // Template errors (132xxx): the template or its parameters are wrong; resending will not help.
  entry(132000, 'permanent', 'Template Param Count Mismatch', 400, META),
  entry(132001, 'permanent', 'Template does not exist', 404, META),
  entry(132005, 'permanent', 'Template Hydrated Text Too Long', 400, META),
  entry(132007, 'permanent', 'Template Format Character Policy Violated', 400, META),
  entry(132012, 'permanent', 'Template Parameter Format Mismatch', 400, META),
  entry(132015, 'permanent', 'Template is Paused', 400, META),
  entry(132016, 'permanent', 'Template is Disabled', 400, META),
  entry(132068, 'permanent', 'Flow is blocked', 400, META),
  entry(132069, 'permanent', 'Flow is throttled', 400, META),

  // Registration errors that block the whole number.
  entry(133000, 'auth', 'Incomplete Deregistration', 500, META),
  entry(133004, 'retryable', 'Server Temporarily Unavailable', 503, META),
  entry(133010, 'auth', 'Phone number Not Registered', 400, META),

  entry(135000, 'permanent', 'Generic user error', 400, META),
];

const BY_CODE = new Map(ERROR_CODES.map((e) => [e.code, e]));

/** The table entry for a code, if it has one. */
export function lookupErrorCode(code: number | null | undefined): ErrorCodeEntry | undefined {
  return code === null || code === undefined ? undefined : BY_CODE.get(code);
}

/**
 * What a failed send means. A known code decides on its own; unknown codes in a documented range
 * follow the range (200-299 API Permission → auth; 132xxx template → permanent); anything else falls
 * back on the HTTP status. No code and no status is a network error or timeout: retryable.
 */
export function classify(code: number | null | undefined, httpStatus: number | null | undefined): ErrorKind {
  const known = lookupErrorCode(code);
  if (known) return known.kind;
  if (typeof code === 'number') {
    if (code >= 200 && code <= 299) return 'auth'; // META: "200-299 API Permission"
    if (code >= 132000 && code <= 132999) return 'permanent'; // META: template errors
  }
  if (httpStatus === null || httpStatus === undefined) return 'retryable';
  if (httpStatus >= 500 || httpStatus === 429 || httpStatus === 408) return 'retryable';
  if (httpStatus === 401) return 'auth';
  return 'permanent';
}

/** Whether a failure means "outside the customer service window" (re-plan a follow-up as a template). */
export function isWindowClosed(code: number | null | undefined): boolean {
  return lookupErrorCode(code)?.windowClosed === true;
}
