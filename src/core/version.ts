// The version of the service, shown in the User-Agent of GET /, in /openapi.json and to MCP clients: package.json's.
import packageJson from '../../package.json';

export const VERSION: string = packageJson.version;
