SELECT
  `t4`.`customer_id`,
  `t4`.`first_order`,
  `t4`.`last_order`,
  `t4`.`orders`,
  `t4`.`cumulative`,
  `t4`.`tenure_days`,
  `t4`.`days_since_last`,
  `t4`.`cpm_group`,
  `t4`.`cpm_status`,
  CONCAT(
    CONCAT(
      CASE `t4`.`cpm_group`
        WHEN 'first'
        THEN '初回'
        WHEN 'toddler'
        THEN 'よちよち'
        WHEN 'steady'
        THEN 'コツコツ'
        WHEN 'trendy'
        THEN '流行'
        WHEN 'loyal'
        THEN '優良'
        ELSE `t4`.`cpm_group`
      END,
      CASE `t4`.`cpm_status`
        WHEN 'active'
        THEN '現役'
        WHEN 'lapsed'
        THEN '離脱'
        ELSE `t4`.`cpm_status`
      END
    ),
    '客'
  ) AS `cpm_label`
FROM (
  SELECT
    `t3`.`customer_id`,
    `t3`.`first_order`,
    `t3`.`last_order`,
    `t3`.`orders`,
    `t3`.`cumulative`,
    `t3`.`tenure_days`,
    `t3`.`days_since_last`,
    CASE
      WHEN `t3`.`orders` = 1
      THEN 'first'
      WHEN `t3`.`tenure_days` < 90
      THEN 'toddler'
      WHEN `t3`.`cumulative` < 70000
      THEN 'steady'
      WHEN `t3`.`tenure_days` < 210
      THEN 'trendy'
      ELSE 'loyal'
    END AS `cpm_group`,
    IF(`t3`.`days_since_last` >= 240, 'lapsed', 'active') AS `cpm_status`
  FROM (
    SELECT
      `t2`.`customer_id`,
      `t2`.`first_order`,
      `t2`.`last_order`,
      `t2`.`orders`,
      `t2`.`cumulative`,
      DATE_DIFF(`t2`.`last_order`, `t2`.`first_order`, DAY) AS `tenure_days`,
      DATE_DIFF(DATE(2026, 10, 31), `t2`.`last_order`, DAY) AS `days_since_last`
    FROM (
      SELECT
        `t1`.`customer_id`,
        MIN(`t1`.`order_date`) AS `first_order`,
        MAX(`t1`.`order_date`) AS `last_order`,
        COUNT(*) AS `orders`,
        SUM(`t1`.`total`) AS `cumulative`
      FROM (
        SELECT
          `t0`.`order_id`,
          `t0`.`customer_id`,
          `t0`.`ordered_at`,
          `t0`.`status`,
          `t0`.`channel`,
          `t0`.`subtotal`,
          `t0`.`discount`,
          `t0`.`shipping_fee`,
          `t0`.`points_used`,
          `t0`.`total`,
          `t0`.`points_earned`,
          `t0`.`coupon_code`,
          `t0`.`subscription_id`,
          `t0`.`payment_method`,
          `t0`.`shipping_prefecture`,
          `t0`.`is_gift`,
          DATE(TIMESTAMP_ADD(`t0`.`ordered_at`, INTERVAL '9' HOUR)) AS `order_date`
        FROM `orders` AS `t0`
        WHERE
          `t0`.`status` = 'completed'
          AND `t0`.`customer_id` IS NOT NULL
          AND `t0`.`ordered_at` < DATETIME('2026-10-31T15:00:00')
      ) AS `t1`
      GROUP BY
        1
    ) AS `t2`
  ) AS `t3`
) AS `t4`
ORDER BY
  `t4`.`customer_id` ASC NULLS LAST
