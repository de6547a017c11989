// electron-builder's afterSign hook: a signed macOS build that was not notarized fails here.
// electron-builder only warns when notarization credentials are missing; forceCodeSigning already
// fails a build that could not be signed. A try-out build with -c.forceCodeSigning=false is let through.

/** The credential sets @electron/notarize accepts, from the environment. */
const credentialSets = [
  ['APPLE_API_KEY', 'APPLE_API_KEY_ID', 'APPLE_API_ISSUER'],
  ['APPLE_ID', 'APPLE_APP_SPECIFIC_PASSWORD', 'APPLE_TEAM_ID'],
  ['APPLE_KEYCHAIN', 'APPLE_KEYCHAIN_PROFILE'],
];

/** Why this build may not ship un-notarized, or undefined when it may go on. */
function missingNotarization(platform, forceCodeSigning, env) {
  if (platform !== 'darwin' || !forceCodeSigning) return undefined;
  if (credentialSets.some((names) => names.every((name) => env[name]))) return undefined;
  return `the macOS build was signed but not notarized: set one of ${credentialSets.map((names) => names.join(' + ')).join(', or ')}`;
}

module.exports = async function requireNotarization(context) {
  const problem = missingNotarization(context.electronPlatformName, context.packager.forceCodeSigning, process.env);
  if (problem) throw new Error(problem);
};
module.exports.missingNotarization = missingNotarization;
