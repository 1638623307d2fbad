package llbdefs

// Recipe makes an image graph: each image of the stack has one (Nginx,
// WordPress, ...), and an importer may write their own.
type Recipe func(opts ...Option) (Image, error)

// Recipes returns the recipes of the Inception stack's images by the name
// a service's build names them with (stack.Build.Recipe).
func Recipes() map[string]Recipe {
	return map[string]Recipe{
		"nginx":     Nginx,
		"wordpress": WordPress,
		"adminer":   Adminer,
		"vsftpd":    Vsftpd,
		"static":    Static,
		"mariadb":   MariaDB,
		"redis":     Redis,
	}
}
