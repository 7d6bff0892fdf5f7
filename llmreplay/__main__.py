from llmreplay.cli import main

main()
