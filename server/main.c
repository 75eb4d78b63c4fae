/* placeholder until the ctserver module lands */
int main(void)
{
	return 0;
}
