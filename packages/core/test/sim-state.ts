/** The simulator's /state view as core's tests read it (`control.state<SimState>()`). */
export interface SimState {
  okx: {
    accounts: {
      uid: string;
      keys: { apiKey: string; status: string }[];
      subAccounts: { name: string; uid: string; keys: { apiKey: string; status: string }[] }[];
    }[];
  };
  bitfinex: { users: { id: number; keys: { apiKey: string; status: string }[] }[] };
}
