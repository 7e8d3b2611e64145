polcy test x.json
