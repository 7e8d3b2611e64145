config show 'users[alice]'
