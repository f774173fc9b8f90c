// The contract of a background part of the daemon (inbox processor, scheduler, outbound queue): the
// daemon starts each and stops each within a deadline. Here so services need not import the daemon.

/** A background part of the daemon (inbox processor, scheduler, outbound queue). */
export interface Service {
  name: string;
  start(): Promise<void> | void;
  /** Finish or park current work within the deadline (ms since epoch, wall clock). */
  stop(deadline: number): Promise<void>;
}
