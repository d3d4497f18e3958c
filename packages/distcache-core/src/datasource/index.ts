export type { DataSource, FetchContext, FetchFunction } from './datasource';
export { toDataSource } from './datasource';
export { SingleFlight } from './single-flight';
