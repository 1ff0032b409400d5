// Handlers a test runs in its own process log through Powertools, which reads its level once, when the logger is
// made: errors only, unless the shell asks for more. The one place tests touch the environment.
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
