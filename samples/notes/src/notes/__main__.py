from notes.server import main

raise SystemExit(main())
