/** The proxy's call events (POST /kamailio/calls) as the capacity store counts them and observers hear of them. */

/** start: the call was answered (200 OK); end: BYE, CANCEL or a final failure. */
export type CallEventKind = 'start' | 'end'

/** Told to observers for every accepted call event (metrics). */
export interface CallEvent {
  readonly partition: string
  readonly event: CallEventKind
}
