// Who did a root action, as its audit entry names them (SPEC §9a): the token's id and the request's id.
// Services that write their own audit entry (with what the action changed) take this from the route.

export interface AuditActor {
  token_id: string;
  request_id: string | null;
}
