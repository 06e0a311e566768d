declare module 'fermyon:spin/variables@2.0.0' {
  /**
   * The value of the component variable `name` (lowercase letters, digits and single underscores), as
   * `[component.<id>.variables]` in spin.toml maps it, resolved through the host's variable providers
   * (`spin up --variable`, SPIN_VARIABLE_* environment variables, Vault, Azure Key Vault, SpinKube...).
   */
  export function get(name: string): string;
  /**
   * Why a variable has no value.
   */
  export type Error = ErrorInvalidName | ErrorUndefined | ErrorProvider | ErrorOther;
  /**
   * The name is not a valid variable name.
   */
  export interface ErrorInvalidName {
    tag: 'invalid-name',
    val: string,
  }
  /**
   * The component maps no variable of this name.
   */
  export interface ErrorUndefined {
    tag: 'undefined',
    val: string,
  }
  /**
   * A provider failed, or a variable mapped to an app variable with no default got no value.
   */
  export interface ErrorProvider {
    tag: 'provider',
    val: string,
  }
  /**
   * Any other failure (for example a malformed template in the manifest).
   */
  export interface ErrorOther {
    tag: 'other',
    val: string,
  }
}
