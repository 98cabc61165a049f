# toolhost runner configuration: what "make run" serves.
# Reference: README.md, section "plugins.hcl reference".

listen   = "127.0.0.1:4201"
data_dir = "./data"

# Reads web pages as markdown or text; needs no credentials. It refuses
# private, loopback and link-local addresses unless its config allows them:
# WEB_ALLOW_HOSTS=127.0.0.1 lets it read pages served on this machine, or
# set allow_private = "true" for your whole network (plugins/web/README.md).
plugin "web" {
  path = "./bin/web"
  config = {
    allow_hosts = env("WEB_ALLOW_HOSTS")
  }
}

plugin "gmail" {
  path = "./bin/gmail"
  config = {
    gmailEmailAddress = env("GMAIL_EMAIL_ADDRESS")
    gmailAppPassword  = env("GMAIL_APP_PASSWORD")
    senderName        = "Assistant"
  }
}

plugin "slack" {
  path = "./bin/slack"
  config = {
    botToken           = env("SLACK_BOT_TOKEN")
    incomingWebhookUrl = env("SLACK_WEBHOOK_URL")
  }
}

# An MCP server hosted as a plugin (its tools become actions filesystem.*),
# here from npm over stdio; see the plugins.hcl reference in README.md:
# mcp_server "filesystem" {
#   command = ["npx", "-y", "@modelcontextprotocol/server-filesystem@2026.8.31", "/srv/shared"]
#   env     = ["PATH", "HOME"]
# }

# An OpenAI-compatible model for assistant runs on threads, e.g. Ollama:
# model "local" {
#   base_url = "http://127.0.0.1:11434/v1"
#   model    = "llama3.1"
# }
