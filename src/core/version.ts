// The version of the service, shown in the User-Agent of GET /, in /openapi.json and to MCP clients.
export const VERSION = '0.1.0';
