import RSOCLI

RSOCommand.main()
