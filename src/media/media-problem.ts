// Why a media download did not end up stored: a short code for programs, a sentence for people, and
// whether trying again later can help. Every failure of the download path is one of these.

export type MediaErrorCode =
  | 'too_large'
  | 'type_not_allowed'
  | 'sha256_mismatch'
  | 'not_found'
  | 'unauthorized'
  | 'http_error'
  | 'timeout'
  | 'network_error'
  | 'redirect_other_host'
  | 'bad_lookup'
  | 'storage_error'
  | 'disk_full'
  | 'url_expired';

export class MediaProblem extends Error {
  constructor(
    readonly code: MediaErrorCode,
    message: string,
    /** Trying again later can help (a 5xx, a timeout); otherwise the row fails at once. */
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'MediaProblem';
  }
}
