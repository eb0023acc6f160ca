/** Who asks, recorded in the history with what they asked. */
export interface Actor {
  by: string;
}
